/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "string-util.h"

int tempfn_random(const char *path, char **ret) {
        _cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path);
        uint64_t rnd;

        assert(path);
        assert(ret);

        if (!copy || !copy2)
                return -ENOMEM;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                return negative_errno();
        return asprintf_safe(ret, "%s/.#%s%016llx", dirname(copy), basename(copy2),
                             (unsigned long long) rnd);
}

int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = -EBADF;

        assert(path);

        if (!copy)
                return -ENOMEM;
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return fsync(fd) < 0 ? negative_errno() : 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *p = data;
        int r;

        assert(path);
        assert(data || size == 0);

        r = tempfn_random(path, &tmp);
        if (r < 0)
                return r;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return negative_errno();
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto fail;
                }
                p += n;
                size -= (size_t) n;
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
                r = negative_errno();
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        return fsync_directory_of(path);
fail:
        unlink(tmp);
        return r;
}

int write_string_file_atomic(const char *path, const char *s, mode_t mode) {
        assert(path);
        assert(s);

        return write_file_atomic(path, s, strlen(s), mode);
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        assert(path);
        assert(ret);

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t n;

                if (size + 1 >= alloc) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        char *nb;
                        if (na > max_size + 2)
                                na = max_size + 2;
                        if (na <= size + 1)
                                return -EFBIG;
                        nb = realloc(buf, na);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max_size)
                        return -EFBIG;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        assert(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        struct stat st;
        int r = 0;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_dev != dev)
                return -EXDEV;
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) >= 0)
                        continue;
                if (errno == EISDIR) {
                        int q = rm_rf_at(dirfd(d), de->d_name, dev);
                        if (q < 0 && r == 0)
                                r = q;
                        if (q >= 0 && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && r == 0)
                                r = negative_errno();
                } else if (errno != ENOENT && r == 0)
                        r = negative_errno();
        }
        closedir(d);
        return r;
}

int rm_rf(const char *path) {
        struct stat st;
        int r;

        assert(path);

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? negative_errno() : 0;
        r = rm_rf_at(AT_FDCWD, path, st.st_dev);
        if (r < 0)
                return r;
        return rmdir(path) < 0 ? negative_errno() : 0;
}
