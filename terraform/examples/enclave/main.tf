# Enclave deployment across three accounts: the signer role and the tables in
# account A; one attestation-gated KMS key in each of A, B and C. Any two keys
# rebuild the master key (`operator init --kms-threshold 2`), so one account's
# administrator can neither release the key alone nor deny it alone.
#
# Cross-account access is granted on both sides: each key policy names the
# signer role of account A, and the role's IAM policy in A names the three key
# ARNs (module.signer's ShamirKmsKeys statement).

module "tables" {
  source                   = "../../modules/tables"
  keys_table_name          = "${var.table_prefix}-keys"
  signer_state_table_name  = "${var.table_prefix}-state"
  anti_slashing_table_name = "${var.table_prefix}-slashing"
}

module "signer" {
  source                  = "../../modules/signer-iam"
  role_name               = var.role_name
  trust_ec2               = true
  anti_slashing_table_arn = module.tables.anti_slashing_table_arn
  signer_state_table_arn  = module.tables.signer_state_table_arn
  keys_table_arn          = module.tables.keys_table_arn
  kms_key_arns            = [module.kms_a.key_arn, module.kms_b.key_arn, module.kms_c.key_arn]
}

module "kms_a" {
  source                           = "../../modules/kms-key"
  description                      = "containment-chamber share key, account A"
  signer_role_arns                 = [module.signer.role_arn]
  key_administrator_arns           = var.key_administrator_arns_a
  enclave_signing_cert_hash        = var.enclave_signing_cert_hash
  enclave_signing_cert_hashes_next = var.enclave_signing_cert_hashes_next
  enclave_pcr0_hashes              = var.enclave_pcr0_hashes
  enclave_pcr3_hash                = var.enclave_pcr3_hash
}

module "kms_b" {
  source                           = "../../modules/kms-key"
  providers                        = { aws = aws.secondary_b }
  description                      = "containment-chamber share key, account B"
  signer_role_arns                 = [module.signer.role_arn]
  key_administrator_arns           = var.key_administrator_arns_b
  enclave_signing_cert_hash        = var.enclave_signing_cert_hash
  enclave_signing_cert_hashes_next = var.enclave_signing_cert_hashes_next
  enclave_pcr0_hashes              = var.enclave_pcr0_hashes
  enclave_pcr3_hash                = var.enclave_pcr3_hash
}

module "kms_c" {
  source                           = "../../modules/kms-key"
  providers                        = { aws = aws.secondary_c }
  description                      = "containment-chamber share key, account C"
  signer_role_arns                 = [module.signer.role_arn]
  key_administrator_arns           = var.key_administrator_arns_c
  enclave_signing_cert_hash        = var.enclave_signing_cert_hash
  enclave_signing_cert_hashes_next = var.enclave_signing_cert_hashes_next
  enclave_pcr0_hashes              = var.enclave_pcr0_hashes
  enclave_pcr3_hash                = var.enclave_pcr3_hash
}
