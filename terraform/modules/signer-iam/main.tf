# The signer's IAM role and its policy: exactly the actions the code calls,
# per table and per KMS key (tests/integration/terraform_policies.sh derives
# the set from the C sources and fails when they drift apart).
#
#   anti-slashing table  DescribeTable (start-up schema check), GetItem (network binding, re-request
#                        check), PutItem, UpdateItem (records, high-water marks), Query + Scan
#                        (slashing export, Key Manager DELETE)          src/slashing/dynamodb.c
#   signer state table   DescribeTable, GetItem, PutItem (conditional)   src/chamber/{state,auth_store}.c
#   key table            DescribeTable, GetItem, Query (status-shard-index), and TransactWriteItems,
#                        authorised per action inside it: PutItem (import / generate), UpdateItem
#                        (status, generation counter), DeleteItem (delete)   src/keys/dynamodb.c
#   KMS keys             kms:Encrypt (init, rotation), kms:Decrypt (unseal)  src/chamber/chamber.c
#
# dynamodb:CreateTable is not granted: Terraform creates the tables
# (`containment-chamber dynamodb create-tables` is for local DynamoDB).

locals {
  anti_slashing_actions = [
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
  ]
  signer_state_actions = [
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
  ]
  keys_actions = [
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
  ]
  kms_actions = [
    "kms:Decrypt",
    "kms:Encrypt",
  ]

  policy = {
    Version = "2012-10-17"
    Statement = concat(
      var.anti_slashing_table_arn != "" ? [{
        Sid      = "AntiSlashingTable"
        Effect   = "Allow"
        Action   = local.anti_slashing_actions
        Resource = [var.anti_slashing_table_arn]
      }] : [],
      var.signer_state_table_arn != "" ? [{
        Sid      = "SignerStateTable"
        Effect   = "Allow"
        Action   = local.signer_state_actions
        Resource = [var.signer_state_table_arn]
      }] : [],
      var.keys_table_arn != "" ? [{
        Sid      = "KeyTable"
        Effect   = "Allow"
        Action   = local.keys_actions
        Resource = [var.keys_table_arn, "${var.keys_table_arn}/index/status-shard-index"]
      }] : [],
      length(var.kms_key_arns) > 0 ? [{
        Sid      = "ShamirKmsKeys"
        Effect   = "Allow"
        Action   = local.kms_actions
        Resource = var.kms_key_arns
      }] : [],
    )
  }

  oidc_sub = "system:serviceaccount:${replace(var.service_account, "/", ":")}"

  trust = {
    Version = "2012-10-17"
    Statement = concat(
      var.trust_ec2 ? [{
        Sid       = "Ec2Host"
        Effect    = "Allow"
        Principal = { Service = "ec2.amazonaws.com" }
        Action    = ["sts:AssumeRole"]
      }] : [],
      var.trust_eks_pod_identity ? [{
        Sid       = "EksPodIdentity"
        Effect    = "Allow"
        Principal = { Service = "pods.eks.amazonaws.com" }
        Action    = ["sts:AssumeRole", "sts:TagSession"]
      }] : [],
      var.eks_oidc_provider_arn != "" ? [{
        Sid       = "EksIrsa"
        Effect    = "Allow"
        Principal = { Federated = var.eks_oidc_provider_arn }
        Action    = ["sts:AssumeRoleWithWebIdentity"]
        Condition = {
          StringEquals = {
            "${var.eks_oidc_issuer}:sub" = local.oidc_sub
            "${var.eks_oidc_issuer}:aud" = "sts.amazonaws.com"
          }
        }
      }] : [],
    )
  }
}

resource "aws_iam_role" "this" {
  name               = var.role_name
  assume_role_policy = jsonencode(local.trust)
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = var.trust_ec2 || var.trust_eks_pod_identity || var.eks_oidc_provider_arn != ""
      error_message = "Choose who assumes the signer role: trust_ec2, trust_eks_pod_identity or eks_oidc_provider_arn."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "containment-chamber-signer"
  role   = aws_iam_role.this.id
  policy = jsonencode(local.policy)
}

resource "aws_iam_instance_profile" "this" {
  count = var.trust_ec2 ? 1 : 0
  name  = var.role_name
  role  = aws_iam_role.this.name
}
