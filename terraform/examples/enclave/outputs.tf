output "kms_key_arns" {
  description = "The three key ARNs, comma-separated: the value of `operator init --kms-key-arns`."
  value       = join(",", [module.kms_a.key_arn, module.kms_b.key_arn, module.kms_c.key_arn])
}

output "signer_role_arn" {
  description = "The signer role (instance profile of the parent instance)."
  value       = module.signer.role_arn
}

output "instance_profile_name" {
  description = "Instance profile to attach to the enclave's parent instance."
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
