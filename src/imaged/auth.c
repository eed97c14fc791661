/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "string-util.h"

#define AUTH_CONFIG_MAX (1024u * 1024u)
#define CHALLENGE_MAX 8192u

void auth_challenge_done(AuthChallenge *c) {
        free(c->realm);
        free(c->service);
        free(c->scope);
        *c = (AuthChallenge) {};
}

void auth_credentials_done(AuthCredentials *c) {
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->username);
        free(c->password);
        *c = (AuthCredentials) {};
}

static const char *skip_ws(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* token68 / token characters of RFC 7230 */
static bool is_tchar(char c) {
        return c && (isalnum((unsigned char) c) || strchr("!#$%&'*+-.^_`|~", c));
}

int auth_challenge_parse(const char *header, AuthChallenge *ret) {
        _cleanup_(auth_challenge_done) AuthChallenge c = {};
        const char *p = skip_ws(header);
        size_t n;

        assert(header);
        assert(ret);

        if (strlen(header) > CHALLENGE_MAX)
                return -EBADMSG;
        for (n = 0; is_tchar(p[n]); n++)
                ;
        if (n == 6 && strncasecmp(p, "Bearer", 6) == 0)
                c.scheme = AUTH_SCHEME_BEARER;
        else if (n == 5 && strncasecmp(p, "Basic", 5) == 0)
                c.scheme = AUTH_SCHEME_BASIC;
        else
                return n == 0 ? -EBADMSG : -EOPNOTSUPP;
        p += n;
        if (*p && *p != ' ' && *p != '\t')
                return -EBADMSG;

        for (;;) {
                _cleanup_free_ char *key = NULL, *value = NULL;
                size_t len = 0;

                p = skip_ws(p);
                while (*p == ',')
                        p = skip_ws(p + 1);
                if (!*p)
                        break;
                for (n = 0; is_tchar(p[n]); n++)
                        ;
                if (n == 0)
                        return -EBADMSG;
                key = strndup(p, n);
                if (!key)
                        return -ENOMEM;
                p = skip_ws(p + n);
                if (*p != '=')
                        return -EBADMSG;
                p = skip_ws(p + 1);
                value = malloc(strlen(p) + 1);
                if (!value)
                        return -ENOMEM;
                if (*p == '"') {
                        for (p++; *p != '"'; p++) {
                                if (!*p)
                                        return -EBADMSG; /* unterminated */
                                if (*p == '\\' && p[1])
                                        p++;
                                value[len++] = *p;
                        }
                        p++;
                } else
                        for (; is_tchar(*p) || *p == '/' || *p == ':'; p++)
                                value[len++] = *p;
                value[len] = 0;
                p = skip_ws(p);
                if (*p && *p != ',')
                        return -EBADMSG;

                char **dst = strcasecmp(key, "realm") == 0 ? &c.realm :
                             strcasecmp(key, "service") == 0 ? &c.service :
                             strcasecmp(key, "scope") == 0 ? &c.scope : NULL;
                if (dst) {
                        if (*dst)
                                return -EBADMSG; /* repeated parameter */
                        *dst = TAKE_PTR(value);
                }
        }
        if (c.scheme == AUTH_SCHEME_BEARER && isempty(c.realm))
                return -EBADMSG;
        *ret = c;
        c = (AuthChallenge) {};
        return 0;
}

int base64_encode(const void *data, size_t size, char **ret) {
        char *s;

        assert(data || size == 0);
        assert(ret);

        if (size > SIZE_MAX / 2)
                return -EFBIG;
        s = malloc(4 * ((size + 2) / 3) + 1);
        if (!s)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) s, data, (int) size);
        *ret = s;
        return 0;
}

int base64_decode(const char *s, void **ret, size_t *ret_size) {
        size_t n = strlen(s), pad = 0;
        unsigned char *buf;
        int len;

        assert(s);
        assert(ret);
        assert(ret_size);

        if (n % 4 != 0 || n > INT32_MAX)
                return -EINVAL;
        buf = malloc(n / 4 * 3 + 1);
        if (!buf)
                return -ENOMEM;
        len = EVP_DecodeBlock(buf, (const unsigned char *) s, (int) n);
        if (len < 0) {
                free(buf);
                return -EINVAL;
        }
        /* EVP_DecodeBlock counts the padding as zero bytes */
        if (n >= 1 && s[n - 1] == '=')
                pad++;
        if (n >= 2 && s[n - 2] == '=')
                pad++;
        len -= (int) pad;
        buf[len] = 0;
        *ret = buf;
        *ret_size = (size_t) len;
        return 0;
}

int auth_basic_header(const AuthCredentials *c, char **ret) {
        _cleanup_free_ char *pair = NULL, *b64 = NULL;
        int r;

        assert(c);

        pair = strjoin(c->username, ":", c->password);
        if (!pair)
                return -ENOMEM;
        r = base64_encode(pair, strlen(pair), &b64);
        explicit_bzero(pair, strlen(pair));
        if (r < 0)
                return r;
        *ret = strjoin("Basic ", b64);
        return *ret ? 0 : -ENOMEM;
}

/* docker.io's credentials are traditionally stored under the v1 index URL. */
static bool auth_key_matches(const char *key, const char *registry) {
        const char *k = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        size_t n = strcspn(k, "/");

        if (strlen(registry) == n && strneq(k, registry, n))
                return true;
        if (streq(registry, "docker.io"))
                return (n == 15 && strneq(k, "index.docker.io", n)) ||
                       (n == 20 && strneq(k, "registry-1.docker.io", n));
        return false;
}

typedef struct AuthEntry {
        char *auth;
        char *username;
        char *password;
        char *identitytoken;
} AuthEntry;

static void auth_entry_done(AuthEntry *e) {
        free(e->auth);
        free(e->username);
        if (e->password)
                explicit_bzero(e->password, strlen(e->password));
        free(e->password);
        free(e->identitytoken);
}

int auth_config_parse(const char *text, size_t size, const char *registry, AuthCredentials *ret) {
        static const JsonDispatch entry_table[] = {
                { "auth", json_type_string, json_dispatch_string, offsetof(AuthEntry, auth), JSON_NULLABLE },
                { "username", json_type_string, json_dispatch_string, offsetof(AuthEntry, username), JSON_NULLABLE },
                { "password", json_type_string, json_dispatch_string, offsetof(AuthEntry, password), JSON_NULLABLE },
                { "identitytoken", json_type_string, json_dispatch_string, offsetof(AuthEntry, identitytoken), JSON_NULLABLE },
                {}
        };
        _cleanup_json_ json_object *root = NULL;
        json_object *auths = NULL;
        int r;

        assert(text || size == 0);
        assert(registry);
        assert(ret);

        r = json_parse_bounded(text, size, AUTH_CONFIG_MAX, true, &root);
        if (r < 0)
                return log_error_errno(r, "Registry credentials file is not a JSON object: %m");
        if (!json_object_object_get_ex(root, "auths", &auths) || !auths)
                return 0;
        if (!json_object_is_type(auths, json_type_object))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Registry credentials: 'auths' is not an object.");

        json_object_object_foreach(auths, key, value) {
                _cleanup_(auth_entry_done) AuthEntry e = {};
                _cleanup_(auth_credentials_done) AuthCredentials c = {};

                if (!auth_key_matches(key, registry))
                        continue;
                r = json_dispatch(value, entry_table, "registry credentials", &e);
                if (r < 0)
                        return r;
                if (e.auth) {
                        _cleanup_free_ char *decoded = NULL;
                        size_t n;
                        char *colon;

                        r = base64_decode(e.auth, (void **) &decoded, &n);
                        if (r < 0 || strlen(decoded) != n || !(colon = strchr(decoded, ':')))
                                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                                       "Registry credentials for %s: 'auth' is not base64 of user:password.", key);
                        *colon = 0;
                        c.username = strdup(decoded);
                        c.password = strdup(colon + 1);
                        explicit_bzero(decoded, n);
                } else if (e.identitytoken) {
                        c.username = strdup("<token>");
                        c.password = strdup(e.identitytoken);
                } else if (e.username && e.password) {
                        c.username = strdup(e.username);
                        c.password = strdup(e.password);
                } else
                        continue;
                if (!c.username || !c.password)
                        return -ENOMEM;
                *ret = c;
                c = (AuthCredentials) {};
                return 1;
        }
        return 0;
}

int auth_config_load(const char *path, const char *registry, AuthCredentials *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        assert(registry);
        assert(ret);

        if (!path)
                return 0;
        r = read_full_file(path, AUTH_CONFIG_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to read registry credentials %s: %m", path);
        r = auth_config_parse(text, size, registry, ret);
        explicit_bzero(text, size);
        return r;
}
