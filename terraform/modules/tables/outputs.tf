output "anti_slashing_table_arn" {
  description = "ARN of the anti-slashing table (empty when the table is not created)."
  value       = try(aws_dynamodb_table.anti_slashing[0].arn, "")
}

output "signer_state_table_arn" {
  description = "ARN of the signer state table (empty when the table is not created)."
  value       = try(aws_dynamodb_table.signer_state[0].arn, "")
}

output "keys_table_arn" {
  description = "ARN of the key table (empty when the table is not created)."
  value       = try(aws_dynamodb_table.keys[0].arn, "")
}
