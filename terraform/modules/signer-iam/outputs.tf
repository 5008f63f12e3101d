output "role_arn" {
  description = "ARN of the signer role (IRSA annotation eks.amazonaws.com/role-arn, Pod Identity association, key policies)."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the signer role."
  value       = aws_iam_role.this.name
}

output "instance_profile_name" {
  description = "Instance profile for the EC2 (enclave parent) host, or null."
  value       = one(aws_iam_instance_profile.this[*].name)
}

output "policy_json" {
  description = "The signer's IAM policy as applied."
  value       = jsonencode(local.policy)
}
