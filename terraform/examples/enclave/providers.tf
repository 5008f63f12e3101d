# Three AWS accounts, one AWS CLI profile each (~/.aws/config):
#   primary      (account A): the signer role, the tables, KMS key 1
#   secondary_b  (account B): KMS key 2, administered by B's people
#   secondary_c  (account C): KMS key 3, administered by C's people
provider "aws" {
  profile = var.primary_profile
  region  = var.region
}

provider "aws" {
  alias   = "secondary_b"
  profile = var.secondary_b_profile
  region  = var.region
}

provider "aws" {
  alias   = "secondary_c"
  profile = var.secondary_c_profile
  region  = var.region
}
