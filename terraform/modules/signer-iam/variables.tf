variable "role_name" {
  description = "Name of the signer's IAM role."
  type        = string
  default     = "containment-chamber-signer"
}

variable "anti_slashing_table_arn" {
  description = "ARN of anti_slashing.table; empty = no anti-slashing statement (sqlite / postgres backend)."
  type        = string
  default     = ""
}

variable "signer_state_table_arn" {
  description = "ARN of signer_state.table; empty = none."
  type        = string
  default     = ""
}

variable "keys_table_arn" {
  description = "ARN of key_sources.dynamodb.table; empty = none."
  type        = string
  default     = ""
}

variable "kms_key_arns" {
  description = "Full ARNs of the Shamir KMS keys, in any account (their key policies must allow this role too)."
  type        = list(string)
  default     = []
}

variable "trust_ec2" {
  description = "Let EC2 assume the role (the enclave's parent instance, or a plain EC2 host) and create an instance profile."
  type        = bool
  default     = false
}

variable "trust_eks_pod_identity" {
  description = "Let EKS Pod Identity (pods.eks.amazonaws.com) assume the role; then run `aws eks create-pod-identity-association`."
  type        = bool
  default     = false
}

variable "eks_oidc_provider_arn" {
  description = "IRSA: ARN of the cluster's IAM OIDC provider; empty = no IRSA trust."
  type        = string
  default     = ""
}

variable "eks_oidc_issuer" {
  description = "IRSA: the OIDC issuer without https:// (oidc.eks.<region>.amazonaws.com/id/<ID>)."
  type        = string
  default     = ""
}

variable "service_account" {
  description = "IRSA: namespace/name of the signer's Kubernetes service account."
  type        = string
  default     = "default/containment-chamber"
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
