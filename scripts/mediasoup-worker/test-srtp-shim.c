/*
 * Unit test of subprojects/libsrtp3/include/srtp.h (libsrtp 3 API on
 * Debian's libsrtp 2). Built as C and as C++ by test-srtp-shim.sh.
 *
 * Round trips alone cannot catch a wrong key/salt layout (both ends would
 * agree), so the AES-CM profile is also checked against the known-answer
 * vector from libsrtp's own test driver (test/srtp_driver.c, srtp_validate).
 */
#include <srtp.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_ERR(expr, expected)                                                                  \
    do {                                                                                           \
        srtp_err_status_t e_ = (expr);                                                             \
        CHECK(e_ == (expected), "got %d, want %d", (int)e_, (int)(expected));                      \
    } while (0)

/* Same sequence of calls as mediasoup's RTC::SrtpSession constructor. */
static srtp_t make_session(srtp_profile_t profile, srtp_ssrc_type_t dir, const uint8_t *keysalt)
{
    srtp_policy_t policy = NULL;
    srtp_ssrc_t ssrc;
    srtp_t session = NULL;
    size_t key_len = srtp_profile_get_master_key_length(profile);
    size_t salt_len = srtp_profile_get_master_salt_length(profile);

    ssrc.type = dir;
    ssrc.value = 0;
    CHECK_ERR(srtp_policy_create(&policy), srtp_err_status_ok);
    CHECK_ERR(srtp_policy_set_ssrc(policy, ssrc), srtp_err_status_ok);
    CHECK_ERR(srtp_policy_set_profile(policy, profile), srtp_err_status_ok);
    CHECK_ERR(srtp_policy_add_key(policy, keysalt, key_len, keysalt + key_len, salt_len, NULL, 0),
              srtp_err_status_ok);
    CHECK_ERR(srtp_policy_set_allow_repeat_tx(policy, true), srtp_err_status_ok);
    CHECK_ERR(srtp_policy_set_window_size(policy, 1024), srtp_err_status_ok);
    CHECK_ERR(srtp_create(&session, policy), srtp_err_status_ok);
    srtp_policy_destroy(policy);
    return session;
}

static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
    size_t i;
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    memset(buf + 4, 0x11, 4); /* timestamp */
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (i = 0; i < payload_len; i++)
        buf[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload_len;
}

static size_t make_rtcp(uint8_t *buf, uint32_t ssrc)
{
    /* Receiver report with no report blocks, then some padding-free bytes. */
    memset(buf, 0, 32);
    buf[0] = 0x80;
    buf[1] = 201;
    buf[3] = 1; /* length in words - 1 */
    buf[4] = (uint8_t)(ssrc >> 24);
    buf[5] = (uint8_t)(ssrc >> 16);
    buf[6] = (uint8_t)(ssrc >> 8);
    buf[7] = (uint8_t)ssrc;
    return 8;
}

static void test_profile(const char *name, srtp_profile_t profile)
{
    uint8_t keysalt[64];
    uint8_t plain[1500], enc[1500 + 200], dec[1500 + 200];
    size_t plain_len, enc_len, dec_len, i;
    srtp_t tx, rx;
    uint32_t ssrc = 0x12345678;
    uint16_t seq;
    int before = failures;

    for (i = 0; i < sizeof(keysalt); i++)
        keysalt[i] = (uint8_t)(i * 13 + 1);
    tx = make_session(profile, ssrc_any_outbound, keysalt);
    rx = make_session(profile, ssrc_any_inbound, keysalt);

    /* RTP round trip, separate buffers; input left untouched. */
    for (seq = 1000; seq < 1010; seq++) {
        plain_len = make_rtp(plain, seq, ssrc, 100 + seq % 7);
        enc_len = sizeof(enc);
        CHECK_ERR(srtp_protect(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);
        CHECK(enc_len > plain_len, "%s: srtp len %zu", name, enc_len);
        CHECK(memcmp(enc + 12, plain + 12, plain_len - 12) != 0, "%s: payload not encrypted", name);
        dec_len = sizeof(dec);
        CHECK_ERR(srtp_unprotect(rx, enc, enc_len, dec, &dec_len), srtp_err_status_ok);
        CHECK(dec_len == plain_len && memcmp(dec, plain, plain_len) == 0, "%s: RTP mismatch", name);
    }

    /* In place, as mediasoup's DecryptSrtp() does. */
    plain_len = make_rtp(plain, seq++, ssrc, 200);
    enc_len = sizeof(enc);
    CHECK_ERR(srtp_protect(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);
    dec_len = enc_len;
    CHECK_ERR(srtp_unprotect(rx, enc, enc_len, enc, &dec_len), srtp_err_status_ok);
    CHECK(dec_len == plain_len && memcmp(enc, plain, plain_len) == 0, "%s: in-place mismatch", name);

    /* Tampered payload -> auth_fail. */
    plain_len = make_rtp(plain, seq++, ssrc, 120);
    enc_len = sizeof(enc);
    CHECK_ERR(srtp_protect(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);
    enc[20] ^= 0x01;
    dec_len = sizeof(dec);
    CHECK_ERR(srtp_unprotect(rx, enc, enc_len, dec, &dec_len), srtp_err_status_auth_fail);

    /* Output buffer too small -> buffer_small (protect and unprotect). */
    plain_len = make_rtp(plain, seq, ssrc, 120);
    enc_len = plain_len + 1;
    CHECK_ERR(srtp_protect(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_buffer_small);
    enc_len = sizeof(enc);
    CHECK_ERR(srtp_protect(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);
    dec_len = enc_len - 1;
    CHECK_ERR(srtp_unprotect(rx, enc, enc_len, dec, &dec_len), srtp_err_status_buffer_small);
    dec_len = sizeof(dec);
    CHECK_ERR(srtp_unprotect(rx, enc, enc_len, dec, &dec_len), srtp_err_status_ok);
    seq++;

    /* Replay of the same packet is rejected. */
    dec_len = sizeof(dec);
    CHECK_ERR(srtp_unprotect(rx, enc, enc_len, dec, &dec_len), srtp_err_status_replay_fail);

    /* Retransmission with the same seq is allowed on the sender (allow_repeat_tx). */
    enc_len = sizeof(enc);
    CHECK_ERR(srtp_protect(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);

    /* RTCP round trip + tamper + short buffer. */
    plain_len = make_rtcp(plain, ssrc);
    enc_len = sizeof(enc);
    CHECK_ERR(srtp_protect_rtcp(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);
    dec_len = sizeof(dec);
    CHECK_ERR(srtp_unprotect_rtcp(rx, enc, enc_len, dec, &dec_len), srtp_err_status_ok);
    CHECK(dec_len == plain_len && memcmp(dec, plain, plain_len) == 0, "%s: RTCP mismatch", name);
    enc_len = sizeof(enc);
    CHECK_ERR(srtp_protect_rtcp(tx, plain, plain_len, enc, &enc_len, 0), srtp_err_status_ok);
    enc[enc_len - 1] ^= 0x80;
    dec_len = sizeof(dec);
    CHECK_ERR(srtp_unprotect_rtcp(rx, enc, enc_len, dec, &dec_len), srtp_err_status_auth_fail);
    enc_len = plain_len + 4;
    CHECK_ERR(srtp_protect_rtcp(tx, plain, plain_len, enc, &enc_len, 0),
              srtp_err_status_buffer_small);

    /* srtp_stream_remove (network byte order SSRC, as mediasoup passes it). */
    CHECK_ERR(srtp_stream_remove(rx, htonl(ssrc)), srtp_err_status_ok);
    CHECK(srtp_stream_remove(rx, htonl(ssrc)) != srtp_err_status_ok, "%s: removed twice", name);

    CHECK_ERR(srtp_dealloc(tx), srtp_err_status_ok);
    CHECK_ERR(srtp_dealloc(rx), srtp_err_status_ok);
    printf("%s %s\n", failures == before ? "ok  " : "FAIL", name);
}

/* libsrtp test/srtp_driver.c srtp_validate(): AES_CM_128_HMAC_SHA1_80. */
static void test_known_answer(void)
{
    static const uint8_t keysalt[30] = {
        0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41,
        0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
    static const uint8_t plain[28] = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                                      0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                      0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
    static const uint8_t cipher[38] = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                                       0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8,
                                       0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d,
                                       0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb};
    uint8_t out[256];
    size_t out_len = sizeof(out);
    int before = failures;
    srtp_t tx = make_session(srtp_profile_aes128_cm_sha1_80, ssrc_any_outbound, keysalt);

    CHECK_ERR(srtp_protect(tx, plain, sizeof(plain), out, &out_len, 0), srtp_err_status_ok);
    CHECK(out_len == sizeof(cipher) && memcmp(out, cipher, sizeof(cipher)) == 0,
          "known-answer SRTP packet differs");
    CHECK_ERR(srtp_dealloc(tx), srtp_err_status_ok);
    printf("%s known-answer AES_CM_128_HMAC_SHA1_80\n", failures == before ? "ok  " : "FAIL");
}

static void test_policy_errors(void)
{
    uint8_t keysalt[64] = {0};
    srtp_policy_t policy = NULL;
    int before = failures;

    CHECK_ERR(srtp_policy_create(&policy), srtp_err_status_ok);
    /* add_key before set_profile, wrong lengths, MKI: all rejected. */
    CHECK_ERR(srtp_policy_add_key(policy, keysalt, 16, keysalt + 16, 14, NULL, 0),
              srtp_err_status_bad_param);
    CHECK_ERR(srtp_policy_set_profile(policy, srtp_profile_aead_aes_128_gcm), srtp_err_status_ok);
    CHECK_ERR(srtp_policy_add_key(policy, keysalt, 16, keysalt + 16, 14, NULL, 0),
              srtp_err_status_bad_param);
    CHECK_ERR(srtp_policy_add_key(policy, keysalt, 16, keysalt + 16, 12, keysalt, 4),
              srtp_err_status_bad_param);
    CHECK_ERR(srtp_policy_add_key(policy, keysalt, 16, keysalt + 16, 12, NULL, 0),
              srtp_err_status_ok);
    srtp_policy_destroy(policy);

    CHECK((int)srtp_err_status_buffer_small == 28 && (int)srtp_err_status_cryptex_err == 29,
          "v3 error code values");
    printf("%s policy errors\n", failures == before ? "ok  " : "FAIL");
}

int main(void)
{
    CHECK_ERR(srtp_init(), srtp_err_status_ok);
    printf("libsrtp: %s\n", srtp_get_version_string());
    test_known_answer();
    test_profile("AES_CM_128_HMAC_SHA1_80", srtp_profile_aes128_cm_sha1_80);
    test_profile("AES_CM_128_HMAC_SHA1_32", srtp_profile_aes128_cm_sha1_32);
    test_profile("AEAD_AES_128_GCM", srtp_profile_aead_aes_128_gcm);
    test_profile("AEAD_AES_256_GCM", srtp_profile_aead_aes_256_gcm);
    test_policy_errors();
    CHECK_ERR(srtp_shutdown(), srtp_err_status_ok);
    if (failures) {
        fprintf(stderr, "srtp shim test: %d failure(s)\n", failures);
        return 1;
    }
    printf("srtp shim test: OK\n");
    return 0;
}
