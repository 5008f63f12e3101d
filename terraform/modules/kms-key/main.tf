# One KMS key wrapping one Shamir share of the chamber's master key.
#
# Key policy (the only thing that decides who can use the key: no statement
# delegates Decrypt to IAM, and no grant is ever created):
#   KeyAdministration  administrators: manage the key, never use it — no
#                      Encrypt/Decrypt/ReEncrypt/GenerateDataKey/CreateGrant
#                      (a grant would release the key without attestation).
#   SignerEncrypt      the signer role: kms:Encrypt, no condition (init,
#                      rotation, auto-unseal blob; KMS cannot attest Encrypt).
#   SignerDecrypt...   the signer role: kms:Decrypt — in enclave mode only with
#                      a Recipient attestation document whose PCR8 matches, and
#                      PCR0 (ImageSha384) in the list when given, and PCR3 when given.
#   DenyDecrypt...     (enclave mode) anyone: Decrypt / ReEncryptFrom refused
#                      unless the attested PCR8 matches — also stops a future
#                      statement or IAM delegation from releasing a share
#                      outside the enclave.
#
# tests/integration/terraform_policies.sh renders this policy from the HCL and
# evaluates it with kms-local's policy engine.

data "aws_caller_identity" "current" {}

locals {
  attested       = var.enclave_signing_cert_hash != ""
  account_root   = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"
  administrators = length(var.key_administrator_arns) > 0 ? var.key_administrator_arns : [local.account_root]

  administrator_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  # AND of the keys, OR of each key's values (several PCR0s during an upgrade).
  # Every PCR8 accepted: the current signing certificate's, plus any during a certificate rotation.
  pcr8_values = concat([lower(var.enclave_signing_cert_hash)], [for h in var.enclave_signing_cert_hashes_next : lower(h)])

  attestation_condition = merge(
    { "kms:RecipientAttestation:PCR8" = local.pcr8_values },
    length(var.enclave_pcr0_hashes) > 0 ? { "kms:RecipientAttestation:ImageSha384" = [for h in var.enclave_pcr0_hashes : lower(h)] } : {},
    var.enclave_pcr3_hash != "" ? { "kms:RecipientAttestation:PCR3" = [lower(var.enclave_pcr3_hash)] } : {},
  )

  policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid       = "KeyAdministration"
          Effect    = "Allow"
          Principal = { AWS = local.administrators }
          Action    = local.administrator_actions
          Resource  = "*"
        },
        {
          Sid       = "SignerEncrypt"
          Effect    = "Allow"
          Principal = { AWS = var.signer_role_arns }
          Action    = ["kms:Encrypt"]
          Resource  = "*"
        },
      ],
      local.attested ? [
        {
          Sid       = "SignerDecryptFromAttestedEnclave"
          Effect    = "Allow"
          Principal = { AWS = var.signer_role_arns }
          Action    = ["kms:Decrypt"]
          Resource  = "*"
          Condition = { StringEqualsIgnoreCase = local.attestation_condition }
        },
        {
          Sid       = "DenyDecryptOutsideTheSignedEnclave"
          Effect    = "Deny"
          Principal = { AWS = "*" }
          Action    = ["kms:Decrypt", "kms:ReEncryptFrom"]
          Resource  = "*"
          Condition = { StringNotEqualsIgnoreCase = { "kms:RecipientAttestation:PCR8" = local.pcr8_values } }
        },
      ] : [],
      local.attested ? [] : [
        {
          Sid       = "SignerDecrypt"
          Effect    = "Allow"
          Principal = { AWS = var.signer_role_arns }
          Action    = ["kms:Decrypt"]
          Resource  = "*"
        },
      ],
    )
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  key_usage               = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = jsonencode(local.policy)
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count         = var.alias == "" ? 0 : 1
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
