/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "macro.h"

typedef enum AuthScheme {
        AUTH_SCHEME_BASIC,
        AUTH_SCHEME_BEARER,
} AuthScheme;

/* One challenge from a WWW-Authenticate header (RFC 7235 auth-params). */
typedef struct AuthChallenge {
        AuthScheme scheme;
        char *realm;
        char *service;
        char *scope;
} AuthChallenge;

void auth_challenge_done(AuthChallenge *c);
/* Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`.
 * -EBADMSG on malformed input, -EOPNOTSUPP on another scheme. */
int auth_challenge_parse(const char *header, AuthChallenge *ret);

typedef struct AuthCredentials {
        char *username;
        char *password;      /* or an identity token (then username is "<token>") */
} AuthCredentials;

void auth_credentials_done(AuthCredentials *c);
/* Looks up the credentials for registry (as written in the reference, e.g.
 * "127.0.0.1:5000" or "docker.io") in a docker-style config.json text.
 * Returns 1 and fills *ret when found, 0 when not. */
int auth_config_parse(const char *text, size_t size, const char *registry, AuthCredentials *ret);
/* Same, from a file; a missing file means no credentials. */
int auth_config_load(const char *path, const char *registry, AuthCredentials *ret);

/* "Basic base64(user:password)" header value. */
int auth_basic_header(const AuthCredentials *c, char **ret);
int base64_encode(const void *data, size_t size, char **ret);
int base64_decode(const char *s, void **ret, size_t *ret_size);
