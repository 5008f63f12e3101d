variable "keys_table_name" {
  description = "key_sources.dynamodb.table: validator keys sealed under the master key. Empty = not created."
  type        = string
  default     = ""
}

variable "signer_state_table_name" {
  description = "signer_state.table: seal state, KMS-wrapped master-key shares, auth policies. Empty = not created."
  type        = string
  default     = ""
}

variable "anti_slashing_table_name" {
  description = "anti_slashing.table (anti_slashing.backend: dynamodb). Empty = not created (sqlite or postgres backend)."
  type        = string
  default     = ""
}

variable "table_kms_key_arn" {
  description = "Customer-managed KMS key for DynamoDB server-side encryption; null = the AWS managed key aws/dynamodb."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection on every table (turn off only to destroy a test stack)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every table."
  type        = map(string)
  default     = {}
}
