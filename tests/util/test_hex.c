/* Tests for util/hex: strict hex and decimal parsing with messages that say why. */
#include "test.h"
#include "util/hex.h"

TEST(hex_roundtrip)
{
    uint8_t b[4];
    char s[11];
    CHECK(cc_hex_decode_exact("0xdeadBEEF", b, 4, NULL) == CC_OK);
    cc_hex_encode0x(b, 4, s);
    CHECK_EQ_STR(s, "0xdeadbeef");
}

TEST(hex_rejects_bad_input)
{
    uint8_t b[4];
    cc_error err;
    CHECK(cc_hex_decode_exact("0xdeadbe", b, 4, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "expected 4 bytes") != NULL);
    CHECK(cc_hex_decode_exact("0xdeadbeeg", b, 4, &err) == CC_EINVAL);
    CHECK(cc_hex_decode_exact("0xabc", b, 4, &err) == CC_EINVAL);
    CHECK(cc_hex_decode_exact(NULL, b, 4, &err) == CC_EINVAL);
    /* A doubled prefix was once stripped twice: 3 bytes decoded, the 4th left unwritten, CC_OK (fuzz_hex). */
    CHECK(cc_hex_decode_exact("0x0xdeadbe", b, 4, &err) == CC_EINVAL);
    CHECK(cc_hex_decode_exact("0x0x", b, 1, &err) == CC_EINVAL);
}

TEST(u64_strict)
{
    uint64_t v;
    CHECK(cc_parse_u64("18446744073709551615", &v, NULL) == CC_OK && v == UINT64_MAX);
    CHECK(cc_parse_u64("18446744073709551616", &v, NULL) == CC_EINVAL);
    CHECK(cc_parse_u64("-1", &v, NULL) == CC_EINVAL);
    CHECK(cc_parse_u64("", &v, NULL) == CC_EINVAL);
    CHECK(cc_parse_u64("12a", &v, NULL) == CC_EINVAL);
    CHECK(cc_parse_u64("0", &v, NULL) == CC_OK && v == 0);
}

int main(void)
{
    RUN(hex_roundtrip);
    RUN(hex_rejects_bad_input);
    RUN(u64_strict);
    TEST_MAIN_END();
}
