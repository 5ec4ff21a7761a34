/*
 * libsrtp 3 API (the subset mediasoup's worker uses) on top of Debian's
 * libsrtp 2 (package libsrtp2-dev, header <srtp2/srtp.h>).
 *
 * Why: mediasoup >= 3.15 builds against versatica's libsrtp 3.0 beta, which is
 * fetched from GitHub. Debian has no libsrtp 3, so this header adapts the
 * libsrtp 2 library instead. Header-only: every function is `static inline`.
 *
 * Differences covered (libsrtp 3 -> libsrtp 2):
 *  - srtp_policy_t is an opaque handle built with srtp_policy_create(),
 *    srtp_policy_set_xxx(), srtp_policy_add_key(), srtp_policy_destroy()
 *    (v2: a plain struct the caller fills in).
 *  - srtp_[un]protect[_rtcp] take (ctx, in, in_len, out, &out_len[, mki_index])
 *    with size_t lengths and a separate output buffer whose capacity is
 *    checked (v2: in place, int* length, caller guarantees room).
 *  - srtp_stream_remove() is v2's srtp_remove_stream() (ssrc in network order
 *    in both).
 *  - error codes buffer_small (28) and cryptex_err (29) do not exist in v2.
 *
 * Technique: v2's own declarations are kept (the library symbols are v2's);
 * the v3 entry points are inline functions with parley_srtp3_* names and
 * `#define`s map the v3 names onto them. Include this header INSTEAD of
 * <srtp2/srtp.h>, never both with different macro state.
 */
#ifndef PARLEY_SRTP3_ON_SRTP2_H
#define PARLEY_SRTP3_ON_SRTP2_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* v3 reuses the name srtp_policy_t for the opaque handle, so v2's struct of
 * that name is renamed while its header is read (same layout, same ABI). */
#define srtp_policy_t parley_srtp2_policy_t
#include <srtp2/srtp.h>
#undef srtp_policy_t

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes added in libsrtp 3 (values as in libsrtp 3's srtp.h). */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

/* The opaque v3 policy: the v2 struct plus storage that v2 only points to. */
typedef struct parley_srtp3_policy {
    parley_srtp2_policy_t v2;
    srtp_profile_t profile;                   /* 0 until set_profile() */
    unsigned char key[SRTP_MAX_KEY_LEN];      /* master key || master salt */
} parley_srtp3_policy;

typedef parley_srtp3_policy *srtp_policy_t;

static inline srtp_err_status_t parley_srtp3_policy_create(srtp_policy_t *policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    /* calloc: next = NULL, window_size = 0 (v2 default), no MKI keys. */
    *policy = (srtp_policy_t)calloc(1, sizeof(parley_srtp3_policy));
    return *policy ? srtp_err_status_ok : srtp_err_status_alloc_fail;
}

static inline void parley_srtp3_policy_destroy(srtp_policy_t policy)
{
    if (policy == NULL)
        return;
    /* Do not leave key material behind in freed memory. */
    memset(policy->key, 0, sizeof(policy->key));
    free(policy);
}

static inline srtp_err_status_t parley_srtp3_policy_set_ssrc(srtp_policy_t policy,
                                                             srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->v2.ssrc = ssrc;
    return srtp_err_status_ok;
}

static inline srtp_err_status_t parley_srtp3_policy_set_profile(srtp_policy_t policy,
                                                                srtp_profile_t profile)
{
    srtp_err_status_t err;

    if (policy == NULL)
        return srtp_err_status_bad_param;
    err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->v2.rtp, profile);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->v2.rtcp, profile);
    if (err != srtp_err_status_ok)
        return err;
    policy->profile = profile;
    return srtp_err_status_ok;
}

/* One master key without MKI (all mediasoup uses). v2 wants key and salt
 * concatenated in one buffer, with exactly the profile's lengths. */
static inline srtp_err_status_t parley_srtp3_policy_add_key(srtp_policy_t policy,
                                                            const uint8_t *key,
                                                            size_t key_len,
                                                            const uint8_t *salt,
                                                            size_t salt_len,
                                                            const uint8_t *mki,
                                                            size_t mki_len)
{
    if (policy == NULL || key == NULL || salt == NULL)
        return srtp_err_status_bad_param;
    if (mki != NULL || mki_len != 0)
        return srtp_err_status_bad_param; /* MKI: not supported by this shim */
    if (policy->v2.key != NULL)
        return srtp_err_status_bad_param; /* only one key */
    if (policy->profile == srtp_profile_reserved)
        return srtp_err_status_bad_param; /* set_profile() must come first */
    if (key_len != srtp_profile_get_master_key_length(policy->profile) ||
        salt_len != srtp_profile_get_master_salt_length(policy->profile) ||
        key_len + salt_len > sizeof(policy->key))
        return srtp_err_status_bad_param;

    memcpy(policy->key, key, key_len);
    memcpy(policy->key + key_len, salt, salt_len);
    policy->v2.key = policy->key;
    return srtp_err_status_ok;
}

static inline srtp_err_status_t parley_srtp3_policy_set_window_size(srtp_policy_t policy,
                                                                    size_t window_size)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->v2.window_size = (unsigned long)window_size; /* v2 validates it */
    return srtp_err_status_ok;
}

static inline srtp_err_status_t parley_srtp3_policy_set_allow_repeat_tx(srtp_policy_t policy,
                                                                        bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->v2.allow_repeat_tx = allow ? 1 : 0;
    return srtp_err_status_ok;
}

static inline srtp_err_status_t parley_srtp3_create(srtp_t *session, const srtp_policy_t policy)
{
    return srtp_create(session, policy ? &policy->v2 : NULL);
}

static inline srtp_err_status_t parley_srtp3_add_stream(srtp_t session, const srtp_policy_t policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    return srtp_add_stream(session, &policy->v2);
}

static inline srtp_err_status_t parley_srtp3_stream_remove(srtp_t session, uint32_t ssrc)
{
    return srtp_remove_stream(session, ssrc);
}

/*
 * Copy-then-in-place helper for the four packet functions. v2 may write up to
 * `room` bytes past the end of the packet (SRTP_MAX_TRAILER_LEN, +4 for SRTCP),
 * so `out` must have that much capacity, else buffer_small (like v3).
 * in == out (in-place use, as mediasoup's Decrypt*) is allowed.
 */
static inline srtp_err_status_t parley_srtp3_prepare(const uint8_t *in,
                                                     size_t in_len,
                                                     uint8_t *out,
                                                     const size_t *out_len,
                                                     size_t room)
{
    if (in == NULL || out == NULL || out_len == NULL)
        return srtp_err_status_bad_param;
    if (in_len > (size_t)INT_MAX - room)
        return srtp_err_status_bad_param;
    if (*out_len < in_len + room)
        return srtp_err_status_buffer_small;
    if (out != in)
        memmove(out, in, in_len);
    return srtp_err_status_ok;
}

static inline srtp_err_status_t parley_srtp3_protect(srtp_t ctx,
                                                     const uint8_t *rtp,
                                                     size_t rtp_len,
                                                     uint8_t *srtp,
                                                     size_t *srtp_len,
                                                     size_t mki_index)
{
    srtp_err_status_t err;
    int len = (int)rtp_len;

    if (mki_index != 0)
        return srtp_err_status_bad_mki;
    err = parley_srtp3_prepare(rtp, rtp_len, srtp, srtp_len, SRTP_MAX_TRAILER_LEN);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_protect(ctx, srtp, &len);
    if (err == srtp_err_status_ok)
        *srtp_len = (size_t)len;
    return err;
}

static inline srtp_err_status_t parley_srtp3_unprotect(srtp_t ctx,
                                                       const uint8_t *srtp,
                                                       size_t srtp_len,
                                                       uint8_t *rtp,
                                                       size_t *rtp_len)
{
    srtp_err_status_t err;
    int len = (int)srtp_len;

    /* Decryption only shrinks the packet: room for the input is enough. */
    err = parley_srtp3_prepare(srtp, srtp_len, rtp, rtp_len, 0);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_unprotect(ctx, rtp, &len);
    if (err == srtp_err_status_ok)
        *rtp_len = (size_t)len;
    return err;
}

static inline srtp_err_status_t parley_srtp3_protect_rtcp(srtp_t ctx,
                                                          const uint8_t *rtcp,
                                                          size_t rtcp_len,
                                                          uint8_t *srtcp,
                                                          size_t *srtcp_len,
                                                          size_t mki_index)
{
    srtp_err_status_t err;
    int len = (int)rtcp_len;

    if (mki_index != 0)
        return srtp_err_status_bad_mki;
    /* SRTCP adds the 4-byte E-flag/index word before the tag. */
    err = parley_srtp3_prepare(rtcp, rtcp_len, srtcp, srtcp_len, SRTP_MAX_TRAILER_LEN + 4);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_protect_rtcp(ctx, srtcp, &len);
    if (err == srtp_err_status_ok)
        *srtcp_len = (size_t)len;
    return err;
}

static inline srtp_err_status_t parley_srtp3_unprotect_rtcp(srtp_t ctx,
                                                            const uint8_t *srtcp,
                                                            size_t srtcp_len,
                                                            uint8_t *rtcp,
                                                            size_t *rtcp_len)
{
    srtp_err_status_t err;
    int len = (int)srtcp_len;

    err = parley_srtp3_prepare(srtcp, srtcp_len, rtcp, rtcp_len, 0);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_unprotect_rtcp(ctx, rtcp, &len);
    if (err == srtp_err_status_ok)
        *rtcp_len = (size_t)len;
    return err;
}

#ifdef __cplusplus
}
#endif

/* From here on, code written for libsrtp 3 calls the adapters above. */
#define srtp_policy_create parley_srtp3_policy_create
#define srtp_policy_destroy parley_srtp3_policy_destroy
#define srtp_policy_set_ssrc parley_srtp3_policy_set_ssrc
#define srtp_policy_set_profile parley_srtp3_policy_set_profile
#define srtp_policy_add_key parley_srtp3_policy_add_key
#define srtp_policy_set_window_size parley_srtp3_policy_set_window_size
#define srtp_policy_set_allow_repeat_tx parley_srtp3_policy_set_allow_repeat_tx
#define srtp_create parley_srtp3_create
#define srtp_add_stream parley_srtp3_add_stream
#define srtp_stream_remove parley_srtp3_stream_remove
#define srtp_protect parley_srtp3_protect
#define srtp_unprotect parley_srtp3_unprotect
#define srtp_protect_rtcp parley_srtp3_protect_rtcp
#define srtp_unprotect_rtcp parley_srtp3_unprotect_rtcp

#endif /* PARLEY_SRTP3_ON_SRTP2_H */
