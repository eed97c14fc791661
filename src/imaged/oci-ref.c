/* SPDX-License-Identifier: Apache-2.0 */
/* The grammar of the distribution project's reference package:
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]
 *   path-comp  := [a-z0-9]+ (separator [a-z0-9]+)*   separator := [_.] | "__" | "-"+
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" hex{32,}   (sha256: exactly 64 lowercase hex) */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci-ref.h"
#include "string-util.h"

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool path_component_is_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                /* a separator run: ".", "_", "__" or any number of "-" */
                if (s[i] == '.' || s[i] == '_') {
                        if (s[i] == '_' && i + 1 < n && s[i + 1] == '_')
                                i++;
                        i++;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else
                        return false;
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

static bool domain_component_is_valid(const char *s, size_t n) {
        if (n == 0 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool port_is_valid(const char *s, size_t n) {
        unsigned long v = 0;
        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v <= 65535;
}

static bool domain_is_valid(const char *s, size_t n) {
        const char *colon;
        size_t hostlen = n;

        if (n == 0)
                return false;
        if (s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return false;
                for (const char *p = s + 1; p < close; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.')
                                return false;
                hostlen = (size_t) (close - s) + 1;
                if (hostlen == n)
                        return true;
                if (s[hostlen] != ':')
                        return false;
                return port_is_valid(s + hostlen + 1, n - hostlen - 1);
        }
        colon = memchr(s, ':', n);
        if (colon) {
                hostlen = (size_t) (colon - s);
                if (!port_is_valid(colon + 1, n - hostlen - 1))
                        return false;
        }
        for (size_t i = 0, start = 0; i <= hostlen; i++)
                if (i == hostlen || s[i] == '.') {
                        if (!domain_component_is_valid(s + start, i - start))
                                return false;
                        start = i + 1;
                }
        return true;
}

bool oci_tag_is_valid(const char *tag) {
        size_t n = strlen(tag);

        assert(tag);

        if (n == 0 || n > 128)
                return false;
        if (!isalnum((unsigned char) tag[0]) && tag[0] != '_')
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char) tag[i]) && !strchr("_.-", tag[i]))
                        return false;
        return true;
}

bool oci_digest_is_valid(const char *digest) {
        const char *colon = strchr(digest, ':'), *hex;
        size_t hexlen;
        bool need_component = true;

        assert(digest);

        if (!colon || colon == digest)
                return false;
        for (const char *p = digest; p < colon; p++) {
                if (need_component) {
                        if (!isalpha((unsigned char) *p))
                                return false;
                        need_component = false;
                } else if (strchr("+._-", *p))
                        need_component = true;
                else if (!isalnum((unsigned char) *p))
                        return false;
        }
        if (need_component)
                return false;
        hex = colon + 1;
        hexlen = strlen(hex);
        if (hexlen < 32)
                return false;
        if (strneq(digest, "sha256:", 7)) {
                if (hexlen != 64)
                        return false;
                for (size_t i = 0; i < hexlen; i++)
                        if (!isdigit((unsigned char) hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
                                return false;
                return true;
        }
        for (size_t i = 0; i < hexlen; i++)
                if (!isxdigit((unsigned char) hex[i]))
                        return false;
        return true;
}

OciRef *oci_ref_free(OciRef *r) {
        if (!r)
                return NULL;
        free(r->registry);
        free(r->repository);
        free(r->tag);
        free(r->digest);
        free(r);
        return NULL;
}

#define FAIL(msg)                               \
        do {                                    \
                if (ret_error)                  \
                        *ret_error = (msg);     \
                return -EINVAL;                 \
        } while (0)

/* NAME@DIGEST: cuts the digest off name into r. */
static int take_digest(char *name, OciRef *r, const char **ret_error) {
        char *at = strchr(name, '@');

        if (!at)
                return 0;
        *at = 0;
        if (!oci_digest_is_valid(at + 1))
                FAIL("invalid digest");
        r->digest = strdup(at + 1);
        return r->digest ? 0 : -ENOMEM;
}

/* NAME:TAG: the tag is after the last ':' that follows the last '/'. */
static int take_tag(char *name, OciRef *r, const char **ret_error) {
        char *slash = strrchr(name, '/'), *colon = strrchr(slash ?: name, ':');

        if (!colon)
                return 0;
        *colon = 0;
        if (!oci_tag_is_valid(colon + 1))
                FAIL("invalid tag");
        r->tag = strdup(colon + 1);
        return r->tag ? 0 : -ENOMEM;
}

/* Docker's rule: the first component is a registry when it has a '.' or ':'
 * in it, is "localhost", or has upper-case letters. Its length, or 0. */
static size_t registry_length(const char *name) {
        const char *slash = strchr(name, '/');
        size_t n;

        if (!slash)
                return 0;
        n = (size_t) (slash - name);
        if (memchr(name, '.', n) || memchr(name, ':', n) || (n == 9 && strneq(name, "localhost", 9)) || name[0] == '[')
                return n;
        for (size_t i = 0; i < n; i++)
                if (isupper((unsigned char) name[i]))
                        return n;
        return 0;
}

/* The registry part of name into r (docker.io when none; its aliases are
 * docker.io too); *ret_path is the rest. */
static int take_registry(const char *name, OciRef *r, const char **ret_path, const char **ret_error) {
        size_t n = registry_length(name);

        if (n > 0 && !domain_is_valid(name, n))
                FAIL("invalid registry host");
        if (n == 0 || (n == 15 && strneq(name, "index.docker.io", n)) || (n == 20 && strneq(name, "registry-1.docker.io", n)))
                r->registry = strdup(OCI_DEFAULT_REGISTRY);
        else
                r->registry = strndup(name, n);
        *ret_path = n > 0 ? name + n + 1 : name;
        return r->registry ? 0 : -ENOMEM;
}

static int check_path(const char *path, const char **ret_error) {
        for (const char *p = path;;) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t) (e - p) : strlen(p);

                for (size_t i = 0; i < n; i++)
                        if (isupper((unsigned char) p[i]))
                                FAIL("repository name must be lowercase");
                if (!path_component_is_valid(p, n))
                        FAIL("invalid repository name");
                if (!e)
                        return 0;
                p = e + 1;
        }
}

int oci_ref_parse(const char *s, OciRef **ret, const char **ret_error) {
        _cleanup_oci_ref_ OciRef *r = NULL;
        _cleanup_free_ char *name = NULL;
        const char *path;
        int k;

        assert(ret);

        if (isempty(s))
                FAIL("reference is empty");
        if (strlen(s) > 4096)
                FAIL("reference is too long");
        name = strdup(s);
        r = calloc(1, sizeof *r);
        if (!name || !r)
                return -ENOMEM;

        k = take_digest(name, r, ret_error);
        if (k >= 0)
                k = take_tag(name, r, ret_error);
        if (k >= 0 && isempty(name))
                FAIL("repository name is empty");
        if (k >= 0)
                k = take_registry(name, r, &path, ret_error);
        if (k >= 0)
                k = check_path(path, ret_error);
        if (k < 0)
                return k;

        if (streq(r->registry, OCI_DEFAULT_REGISTRY) && !strchr(path, '/'))
                r->repository = strjoin("library/", path);
        else
                r->repository = strdup(path);
        if (!r->tag && !r->digest)
                r->tag = strdup(OCI_DEFAULT_TAG);
        if (!r->repository || (!r->tag && !r->digest))
                return -ENOMEM;
        if (strlen(r->registry) + 1 + strlen(r->repository) > OCI_NAME_MAX)
                FAIL("repository name is longer than 255 characters");
        *ret = TAKE_PTR(r);
        return 0;
}

char *oci_ref_to_string(const OciRef *r) {
        return strjoin(r->registry, "/", r->repository,
                       r->tag ? ":" : "", strempty(r->tag),
                       r->digest ? "@" : "", strempty(r->digest));
}

const char *oci_ref_api_host(const OciRef *r) {
        assert(r);

        return streq(r->registry, OCI_DEFAULT_REGISTRY) ? "registry-1.docker.io" : r->registry;
}

bool oci_registry_is_loopback(const char *registry) {
        size_t n;
        const char *colon;

        assert(registry);

        if (registry[0] == '[')
                return startswith(registry, "[::1]") != NULL;
        colon = strchr(registry, ':');
        n = colon ? (size_t) (colon - registry) : strlen(registry);
        if (n == 9 && strneq(registry, "localhost", 9))
                return true;
        return n >= 4 && strneq(registry, "127.", 4);
}
