variable "primary_profile" {
  description = "AWS CLI profile of account A (signer role, tables, KMS key 1)."
  type        = string
}

variable "secondary_b_profile" {
  description = "AWS CLI profile of account B (KMS key 2)."
  type        = string
}

variable "secondary_c_profile" {
  description = "AWS CLI profile of account C (KMS key 3)."
  type        = string
}

variable "region" {
  description = "Region of every resource (aws.region of the signer)."
  type        = string
  default     = "us-east-1"
}

variable "enclave_signing_cert_hash" {
  description = "PCR8: `nitro-cli describe-eif --eif-path enclave.eif | jq -r .Measurements.PCR8` (or `containment-chamber pcr --signing-certificate signing_cert.pem`)."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-fA-F]{96}$", var.enclave_signing_cert_hash))
    error_message = "enclave_signing_cert_hash must be the 96 hex digits of PCR8."
  }
}

variable "enclave_signing_cert_hashes_next" {
  description = "Further PCR8 values accepted during a signing-certificate rotation (docs/operations.md); empty otherwise."
  type        = list(string)
  default     = []
}

variable "enclave_pcr0_hashes" {
  description = "Allowed PCR0 values (`jq -r .Measurements.PCR0`). List old and new during an upgrade, then drop the old one."
  type        = list(string)
  default     = []
}

variable "enclave_pcr3_hash" {
  description = "Optional PCR3: SHA384(48 zero bytes || parent instance role ARN). Empty = not pinned."
  type        = string
  default     = ""
}

variable "role_name" {
  description = "Name of the signer role in account A (its ARN is what PCR3 hashes when the parent instance uses it)."
  type        = string
  default     = "containment-chamber-signer"
}

variable "table_prefix" {
  description = "Prefix of the three table names."
  type        = string
  default     = "containment"
}

variable "key_administrator_arns_a" {
  description = "Key administrators in account A; empty = account A's root (IAM in A decides)."
  type        = list(string)
  default     = []
}

variable "key_administrator_arns_b" {
  description = "Key administrators in account B; empty = account B's root."
  type        = list(string)
  default     = []
}

variable "key_administrator_arns_c" {
  description = "Key administrators in account C; empty = account C's root."
  type        = list(string)
  default     = []
}
