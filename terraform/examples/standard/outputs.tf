output "kms_key_arns" {
  description = "The key ARNs, comma-separated: the value of `operator init --kms-key-arns`."
  value       = join(",", module.kms[*].key_arn)
}

output "signer_role_arn" {
  description = "The signer role: IRSA annotation eks.amazonaws.com/role-arn, or the Pod Identity association's --role-arn."
  value       = module.signer.role_arn
}

output "instance_profile_name" {
  description = "Instance profile for an EC2 host, or null."
  value       = module.signer.instance_profile_name
}

output "tables" {
  description = "Table names for the signer's config.yaml."
  value = {
    "key_sources.dynamodb.table" = "${var.table_prefix}-keys"
    "signer_state.table"         = "${var.table_prefix}-state"
    "anti_slashing.table"        = "${var.table_prefix}-slashing"
  }
}
