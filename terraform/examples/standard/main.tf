# Standard (non-enclave) deployment in one account: the three tables, the
# signer role (EC2, IRSA or Pod Identity) and kms_key_count KMS keys whose
# policies let the signer role Encrypt and Decrypt without attestation.
# For keys held by different people, use separate accounts as in ../enclave.

module "tables" {
  source                   = "../../modules/tables"
  keys_table_name          = "${var.table_prefix}-keys"
  signer_state_table_name  = "${var.table_prefix}-state"
  anti_slashing_table_name = "${var.table_prefix}-slashing"
}

module "signer" {
  source                  = "../../modules/signer-iam"
  role_name               = var.role_name
  trust_ec2               = var.trust_ec2
  trust_eks_pod_identity  = var.trust_eks_pod_identity
  eks_oidc_provider_arn   = var.eks_oidc_provider_arn
  eks_oidc_issuer         = var.eks_oidc_issuer
  service_account         = var.service_account
  anti_slashing_table_arn = module.tables.anti_slashing_table_arn
  signer_state_table_arn  = module.tables.signer_state_table_arn
  keys_table_arn          = module.tables.keys_table_arn
  kms_key_arns            = module.kms[*].key_arn
}

module "kms" {
  source                 = "../../modules/kms-key"
  count                  = var.kms_key_count
  description            = "containment-chamber share key ${count.index + 1}"
  signer_role_arns       = [module.signer.role_arn]
  key_administrator_arns = var.key_administrator_arns
}
