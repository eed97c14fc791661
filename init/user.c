/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "string-util.h"
#include "user.h"

#define GROUPS_MAX 64

void user_creds_done(UserCreds *c) {
        assert(c);

        c->groups = mfree(c->groups);
        c->home = mfree(c->home);
        c->n_groups = 0;
}

static FILE *open_db(const char *root, const char *name) {
        _cleanup_free_ char *p = path_join(root, "etc", name);
        return p ? fopen(p, "re") : NULL;
}

static int parse_id(const char *s, unsigned *ret) {
        unsigned v;
        if (safe_atou(s, &v) < 0 || v == (unsigned) -1)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* fgetpwent_r reads the image's file directly: no NSS, so it works in a
 * static binary and never consults the host. */
static int lookup_passwd(const char *root, const char *name, unsigned uid, bool by_name, unsigned *ret_uid,
                         unsigned *ret_gid, char **ret_name, char **ret_home) {
        _cleanup_fclose_ FILE *f = open_db(root, "passwd");
        char buf[4096];
        struct passwd pw, *p;

        if (!f)
                return -ENOENT;
        while (fgetpwent_r(f, &pw, buf, sizeof buf, &p) == 0) {
                if (by_name ? !streq(pw.pw_name, name) : pw.pw_uid != uid)
                        continue;
                *ret_uid = pw.pw_uid;
                *ret_gid = pw.pw_gid;
                *ret_name = strdup(pw.pw_name);
                *ret_home = strdup(isempty(pw.pw_dir) ? "/" : pw.pw_dir);
                return *ret_name && *ret_home ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

static int lookup_group(const char *root, const char *name, unsigned *ret_gid) {
        _cleanup_fclose_ FILE *f = open_db(root, "group");
        char buf[8192];
        struct group gr, *g;

        if (!f)
                return -ENOENT;
        while (fgetgrent_r(f, &gr, buf, sizeof buf, &g) == 0)
                if (streq(gr.gr_name, name)) {
                        *ret_gid = gr.gr_gid;
                        return 0;
                }
        return -ENOENT;
}

static int add_group(UserCreds *c, gid_t gid) {
        for (size_t i = 0; i < c->n_groups; i++)
                if (c->groups[i] == gid)
                        return 0;
        if (c->n_groups >= GROUPS_MAX)
                return 0;
        gid_t *n = realloc(c->groups, (c->n_groups + 1) * sizeof(gid_t));
        if (!n)
                return -ENOMEM;
        c->groups = n;
        c->groups[c->n_groups++] = gid;
        return 0;
}

static int member_groups(const char *root, const char *user, UserCreds *c) {
        _cleanup_fclose_ FILE *f = open_db(root, "group");
        char buf[8192];
        struct group gr, *g;

        if (!f)
                return 0;
        while (fgetgrent_r(f, &gr, buf, sizeof buf, &g) == 0)
                for (char **m = gr.gr_mem; m && *m; m++)
                        if (streq(*m, user)) {
                                int r = add_group(c, gr.gr_gid);
                                if (r < 0)
                                        return r;
                        }
        return 0;
}

int user_resolve(const char *root, const char *user, UserCreds *ret) {
        _cleanup_free_ char *u = NULL, *name = NULL, *home = NULL;
        UserCreds c = {};
        const char *group = NULL;
        unsigned uid = 0, gid = 0, id;
        char *colon;
        int r;

        assert(root);
        assert(ret);

        if (isempty(user))
                user = "0";
        u = strdup(user);
        if (!u)
                return log_oom();
        colon = strchr(u, ':');
        if (colon) {
                *colon = 0;
                group = colon + 1;
        }
        if (isempty(u))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "User '%s' has an empty user part.", user);

        if (parse_id(u, &id) >= 0) {
                uid = id;
                r = lookup_passwd(root, NULL, id, false, &uid, &gid, &name, &home);
                if (r == -ENOENT)
                        gid = 0; /* unknown uid: as runc, group root */
                else if (r < 0)
                        return log_oom();
        } else {
                r = lookup_passwd(root, u, 0, true, &uid, &gid, &name, &home);
                if (r == -ENOENT)
                        return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "User '%s' is not in the image's /etc/passwd.", u);
                if (r < 0)
                        return log_oom();
        }
        if (group) {
                if (isempty(group))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "User '%s' has an empty group part.", user);
                if (parse_id(group, &id) >= 0)
                        gid = id;
                else if (lookup_group(root, group, &gid) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Group '%s' is not in the image's /etc/group.", group);
        }

        c.uid = uid;
        c.gid = gid;
        r = add_group(&c, gid);
        if (r >= 0 && name)
                r = member_groups(root, name, &c);
        if (r < 0) {
                user_creds_done(&c);
                return log_oom();
        }
        c.home = home ? TAKE_PTR(home) : strdup("/");
        if (!c.home) {
                user_creds_done(&c);
                return log_oom();
        }
        *ret = c;
        return 0;
}
