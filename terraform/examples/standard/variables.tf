variable "profile" {
  description = "AWS CLI profile of the account."
  type        = string
}

variable "region" {
  description = "Region of every resource (aws.region of the signer)."
  type        = string
  default     = "us-east-1"
}

variable "role_name" {
  description = "Name of the signer role."
  type        = string
  default     = "containment-chamber-signer"
}

variable "table_prefix" {
  description = "Prefix of the three table names."
  type        = string
  default     = "containment"
}

variable "kms_key_count" {
  description = "Number of Shamir KMS keys (N of operator init; choose the threshold M <= N)."
  type        = number
  default     = 3
}

variable "key_administrator_arns" {
  description = "Key administrators; empty = the account root (IAM decides)."
  type        = list(string)
  default     = []
}

variable "trust_ec2" {
  description = "The signer runs on EC2 with an instance profile."
  type        = bool
  default     = false
}

variable "trust_eks_pod_identity" {
  description = "The signer runs on EKS with Pod Identity."
  type        = bool
  default     = false
}

variable "eks_oidc_provider_arn" {
  description = "IRSA: the cluster's IAM OIDC provider ARN (empty = no IRSA)."
  type        = string
  default     = ""
}

variable "eks_oidc_issuer" {
  description = "IRSA: the cluster's OIDC issuer without https://."
  type        = string
  default     = ""
}

variable "service_account" {
  description = "IRSA: namespace/name of the signer's service account."
  type        = string
  default     = "default/containment-chamber"
}
