# The three DynamoDB tables of containment-chamber, with the key schemas that
# `containment-chamber dynamodb create-tables` creates locally (and that the
# signer checks at start-up with DescribeTable):
#
#   anti-slashing  pk (S) hash, sk (S) range          src/slashing/dynamodb.c, docs/dynamodb.md
#   signer state   pk (S) hash                        src/chamber/state.c, docs/chamber.md
#   keys           pk (S) hash; GSI status-shard-index
#                  status_shard (S) hash, pk (S) range, projection ALL     src/keys/dynamodb.h
#
# All on-demand, point-in-time recovery on, server-side encryption on, deletion protection on.

resource "aws_dynamodb_table" "anti_slashing" {
  count                       = var.anti_slashing_table_name == "" ? 0 : 1
  name                        = var.anti_slashing_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.table_kms_key_arn
  }
}

resource "aws_dynamodb_table" "signer_state" {
  count                       = var.signer_state_table_name == "" ? 0 : 1
  name                        = var.signer_state_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags

  attribute {
    name = "pk"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.table_kms_key_arn
  }
}

resource "aws_dynamodb_table" "keys" {
  count                       = var.keys_table_name == "" ? 0 : 1
  name                        = var.keys_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "status_shard"
    type = "S"
  }
  global_secondary_index {
    name            = "status-shard-index"
    hash_key        = "status_shard"
    range_key       = "pk"
    projection_type = "ALL"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.table_kms_key_arn
  }
}
