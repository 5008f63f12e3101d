variable "description" {
  description = "Description of the KMS key (name the account / holder: the operator sees it in `operator status`)."
  type        = string
  default     = "containment-chamber master-key share"
}

variable "alias" {
  description = "Alias (without alias/) for the key; empty = none."
  type        = string
  default     = ""
}

variable "signer_role_arns" {
  description = "IAM role(s) the signer runs as (may be in another account): kms:Encrypt always, kms:Decrypt (attested when enclave_signing_cert_hash is set)."
  type        = list(string)
}

variable "key_administrator_arns" {
  description = "Principals that administer the key (policy, rotation, deletion) — never Encrypt, Decrypt, ReEncrypt or CreateGrant. Empty = this account's root (i.e. IAM in this account decides who administers)."
  type        = list(string)
  default     = []
}

variable "enclave_signing_cert_hash" {
  description = "PCR8 (SHA-384 hex of the EIF signing certificate measurement). Empty = no attestation: Decrypt without conditions (standard, non-enclave mode)."
  type        = string
  default     = ""
  validation {
    condition     = var.enclave_signing_cert_hash == "" || can(regex("^[0-9a-fA-F]{96}$", var.enclave_signing_cert_hash))
    error_message = "enclave_signing_cert_hash must be 96 hex digits (SHA-384) or empty."
  }
}

variable "enclave_signing_cert_hashes_next" {
  description = "Further PCR8 values accepted beside enclave_signing_cert_hash while the EIF signing certificate is rotated (the new certificate's PCR8, or the old one's until every enclave runs the new image). Empty outside a rotation."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for h in var.enclave_signing_cert_hashes_next : can(regex("^[0-9a-fA-F]{96}$", h))])
    error_message = "enclave_signing_cert_hashes_next entries must be 96 hex digits (SHA-384)."
  }
}

variable "enclave_pcr0_hashes" {
  description = "Allowed PCR0 (kms:RecipientAttestation:ImageSha384) values; several during an upgrade. Empty = PCR0 not pinned (not for production)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for h in var.enclave_pcr0_hashes : can(regex("^[0-9a-fA-F]{96}$", h))])
    error_message = "every enclave_pcr0_hashes entry must be 96 hex digits (SHA-384)."
  }
}

variable "enclave_pcr3_hash" {
  description = "Optional PCR3 (hash of the parent instance's IAM role ARN). Empty = not pinned."
  type        = string
  default     = ""
  validation {
    condition     = var.enclave_pcr3_hash == "" || can(regex("^[0-9a-fA-F]{96}$", var.enclave_pcr3_hash))
    error_message = "enclave_pcr3_hash must be 96 hex digits (SHA-384) or empty."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion takes effect (7-30)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
