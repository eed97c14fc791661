/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

typedef struct UserCreds {
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* supplementary, including gid */
        size_t n_groups;
        char *home; /* from passwd, else "/" */
} UserCreds;

void user_creds_done(UserCreds *c);

/* Resolves an OCI user string ("", "name", "uid", "name:group", "uid:gid",
 * any mix) against root/etc/passwd and root/etc/group, as runc does: a name
 * must exist; a uid that is not in passwd runs with gid 0; supplementary
 * groups come from /etc/group membership of the user's name. */
int user_resolve(const char *root, const char *user, UserCreds *ret);
