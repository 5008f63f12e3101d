output "key_arn" {
  description = "Full ARN of the key (operator init --kms-key-arns needs full ARNs, cross-account)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Key id."
  value       = aws_kms_key.this.key_id
}

output "policy_json" {
  description = "The key policy as applied."
  value       = jsonencode(local.policy)
}
