/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hardlink.h"
#include "layer-reader.h"
#include "log.h"
#include "merge.h"
#include "squash-path.h"
#include "string-util.h"

typedef struct Merge {
        Tree *tree;
        SqfsOut *out;
        squash_progress_t progress;
        void *userdata;
        uint64_t bytes_done, bytes_total;

        Links *links;

        uint32_t layer; /* 1 = bottom */
        const SquashLayer *cur;

        uint64_t n_entries, data_bytes, xattrs_dropped;
        char *error;
        int error_r;
} Merge;

_printf_(3, 4)
static int fail(Merge *m, int r, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        r = -ERRNO_VALUE(r);
        if (m->error)
                return m->error_r;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (m->cur)
                (void) asprintf_safe(&m->error, "layer %u (%s): %s", m->layer, m->cur->path,
                                     msg ?: "out of memory");
        else
                m->error = TAKE_PTR(msg);
        m->error_r = r;
        return r;
}

/* Names in messages: hostile names may be 4 KiB long. */
#define NAME_FMT "%.*s%s"
#define NAME_ARG(s) (int) MIN(strlen(strempty(s)), (size_t) 120), strempty(s), strlen(strempty(s)) > 120 ? "..." : ""

static int report_progress(uint64_t bytes, void *userdata) {
        Merge *m = userdata;

        m->bytes_done += bytes;
        if (m->progress)
                return m->progress(MIN(m->bytes_done, m->bytes_total), m->bytes_total, m->userdata);
        return 0;
}

static int entry_metadata(Merge *m, struct archive_entry *e, const char *path, SquashInode *i, mode_t type) {
        int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e), mtime = archive_entry_mtime(e);
        const char *name;
        const void *value;
        size_t size;
        unsigned n_xattrs = 0;
        bool begun = false;
        int r;

        if (uid < 0 || uid > UINT32_MAX - 1 || gid < 0 || gid > UINT32_MAX - 1)
                return fail(m, EBADMSG, "entry \"" NAME_FMT "\": invalid owner %lld:%lld", NAME_ARG(path), (long long) uid, (long long) gid);
        i->mode = (uint32_t) type | (archive_entry_perm(e) & 07777);
        i->uid = (uint32_t) uid;
        i->gid = (uint32_t) gid;
        /* squashfs keeps unsigned 32-bit seconds */
        i->mtime = mtime < 0 ? 0 : mtime > UINT32_MAX ? UINT32_MAX : (uint32_t) mtime;
        i->xattr_idx = 0xFFFFFFFF;

        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!name || strlen(name) > 255)
                        return fail(m, EBADMSG, "entry \"" NAME_FMT "\": invalid xattr name", NAME_ARG(path));
                if (!squash_xattr_name_supported(name)) {
                        log_debug("layer %u: entry \"%s\": dropping xattr %s (squashfs holds only user., trusted. and security.)",
                                  m->layer, path, name);
                        m->xattrs_dropped++;
                        continue;
                }
                if (++n_xattrs > SQUASH_MAX_XATTRS)
                        return fail(m, E2BIG, "entry \"" NAME_FMT "\": more than %u xattrs", NAME_ARG(path), SQUASH_MAX_XATTRS);
                if (size > SQUASH_MAX_XATTR_VALUE)
                        return fail(m, E2BIG, "entry \"" NAME_FMT "\": xattr %s larger than 64 KiB", NAME_ARG(path), name);
                if (!begun) {
                        r = sqfs_out_xattr_begin(m->out);
                        if (r < 0)
                                return fail(m, sqfs_out_errno(m->out, r), "xattrs: %s", sqfs_out_strerror(m->out, r));
                        begun = true;
                }
                r = sqfs_out_xattr_add(m->out, name, value ?: "", size);
                if (r < 0)
                        return fail(m, sqfs_out_errno(m->out, r), "entry \"" NAME_FMT "\": xattr %s: %s", NAME_ARG(path), name,
                                    sqfs_out_strerror(m->out, r));
        }
        if (begun) {
                r = sqfs_out_xattr_end(m->out, &i->xattr_idx);
                if (r < 0)
                        return fail(m, sqfs_out_errno(m->out, r), "xattrs: %s", sqfs_out_strerror(m->out, r));
        }
        return 0;
}

static int archive_fail(Merge *m, LayerReader *reader, struct archive *a, const char *what) {
        const char *msg;
        int r = layer_reader_error(reader, &msg);

        if (r < 0)
                return fail(m, r, "%s", msg ?: "decompression failed");
        return fail(m, EBADMSG, "%s: %s", what, archive_error_string(a) ?: "corrupt tar archive");
}

static int stream_data(Merge *m, LayerReader *reader, struct archive *a, const char *path, SquashInode *i,
                       uint64_t size) {
        static const uint8_t zeros[64 * 1024];
        uint64_t written = 0;
        int r;

        r = sqfs_out_file_begin(m->out, &i->sq);
        if (r < 0)
                return fail(m, sqfs_out_errno(m->out, r), "entry \"" NAME_FMT "\": %s", NAME_ARG(path), sqfs_out_strerror(m->out, r));
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t offset;

                r = archive_read_data_block(a, &buf, &len, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_OK) /* libarchive warns on truncated data */
                        return archive_fail(m, reader, a, path);
                if (offset < 0 || (uint64_t) offset < written || (uint64_t) offset + len > size)
                        return fail(m, EBADMSG, "entry \"" NAME_FMT "\": data outside the file's size", NAME_ARG(path));
                /* sparse tar members: holes come back as gaps between blocks */
                while (written < (uint64_t) offset) {
                        size_t z = (size_t) MIN((uint64_t) sizeof zeros, (uint64_t) offset - written);
                        r = sqfs_out_file_append(m->out, zeros, z);
                        if (r < 0)
                                goto sqfs_fail;
                        written += z;
                }
                r = sqfs_out_file_append(m->out, buf, len);
                if (r < 0)
                        goto sqfs_fail;
                written += len;
        }
        while (written < size) {
                size_t z = (size_t) MIN((uint64_t) sizeof zeros, size - written);
                r = sqfs_out_file_append(m->out, zeros, z);
                if (r < 0)
                        goto sqfs_fail;
                written += z;
        }
        r = sqfs_out_file_end(m->out);
        if (r < 0)
                goto sqfs_fail;
        return 0;

sqfs_fail:
        return fail(m, sqfs_out_errno(m->out, r), "entry \"" NAME_FMT "\": writing squashfs: %s", NAME_ARG(path),
                    sqfs_out_strerror(m->out, r));
}

static int encode_devno(Merge *m, struct archive_entry *e, const char *path, uint32_t *ret) {
        unsigned long long ma = archive_entry_rdevmajor(e), mi = archive_entry_rdevminor(e);

        /* the kernel's new_encode_dev(), which squashfs stores */
        if (ma > 0xfff || mi > 0xfffff)
                return fail(m, EBADMSG, "entry \"" NAME_FMT "\": device number %llu:%llu out of range", NAME_ARG(path), ma, mi);
        *ret = (uint32_t) ((mi & 0xff) | (ma << 8) | ((mi & ~0xffULL) << 12));
        return 0;
}

/* An inode from a non-directory, non-link entry; regular files' data is
 * streamed into the image now. */
static int make_inode(Merge *m, LayerReader *reader, struct archive_entry *e, const char *path,
                      SquashInode **ret) {
        mode_t type = archive_entry_filetype(e);
        SquashInode *i;
        int r;

        i = tree_inode_new(m->tree, 0);
        if (!i)
                return fail(m, ENOMEM, "out of memory");
        r = entry_metadata(m, e, path, i, type);
        if (r < 0)
                return r;

        switch (type) {
        case AE_IFREG: {
                int64_t size = archive_entry_size(e);

                if (size < 0 || (uint64_t) size > SQUASH_MAX_FILE_SIZE)
                        return fail(m, EFBIG, "entry \"" NAME_FMT "\": size %lld is out of bounds", NAME_ARG(path), (long long) size);
                m->data_bytes += (uint64_t) size;
                if (m->data_bytes > SQUASH_MAX_TOTAL_SIZE)
                        return fail(m, EFBIG, "image holds more than 1 TiB of file data");
                r = stream_data(m, reader, layer_reader_archive(reader), path, i, (uint64_t) size);
                if (r < 0)
                        return r;
                break;
        }
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);

                if (!target)
                        target = archive_entry_symlink_utf8(e);
                if (isempty(target) || strlen(target) > SQUASH_PATH_MAX)
                        return fail(m, EBADMSG, "entry \"" NAME_FMT "\": symlink target empty or longer than 4095 bytes", NAME_ARG(path));
                i->symlink = strdup(target);
                if (!i->symlink)
                        return fail(m, ENOMEM, "out of memory");
                break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
                r = encode_devno(m, e, path, &i->devno);
                if (r < 0)
                        return r;
                break;
        case AE_IFIFO:
        case AE_IFSOCK:
                break;
        default:
                return fail(m, EBADMSG, "entry \"" NAME_FMT "\": unsupported file type 0%o", NAME_ARG(path), (unsigned) type);
        }
        *ret = i;
        return 0;
}

static bool type_supported(mode_t type) {
        return type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK || type == AE_IFCHR ||
               type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK;
}

static const char *entry_name(struct archive_entry *e) {
        return archive_entry_pathname(e) ?: archive_entry_pathname_utf8(e);
}

/* Applies path when it is a whiteout: 1 if it was one (or an ignored one). */
static int handle_whiteout(Merge *m, const char *path) {
        _cleanup_free_ char *wh = NULL;
        SquashWhiteout kind;
        int r;

        r = squash_path_whiteout(path, &kind, &wh);
        if (r < 0)
                return fail(m, r, "out of memory");
        switch (kind) {
        case SQUASH_WHITEOUT_NONE:
                return 0;
        case SQUASH_WHITEOUT_IGNORED:
                return 1;
        case SQUASH_WHITEOUT_INVALID:
                return fail(m, EBADMSG, "entry \"" NAME_FMT "\": invalid whiteout name", NAME_ARG(path));
        case SQUASH_WHITEOUT_FILE:
                r = tree_whiteout(m->tree, wh, m->layer);
                break;
        case SQUASH_WHITEOUT_OPAQUE:
                r = tree_opaque(m->tree, wh, m->layer);
                break;
        }
        if (r == -ENOTDIR)
                return fail(m, r, "whiteout \"" NAME_FMT "\": a parent is not a directory in the same layer", NAME_ARG(path));
        if (r < 0)
                return fail(m, r, "whiteout \"" NAME_FMT "\": %s", NAME_ARG(path), strerror(-r));
        return 1;
}

/* The normalised target of a hard link entry. */
static int hardlink_target(Merge *m, const char *path, const char *hardlink, char **ret) {
        const char *reason = NULL;
        int r;

        r = squash_path_normalize(hardlink, ret, &reason);
        if (r == -ENOMEM)
                return fail(m, r, "out of memory");
        if (r < 0)
                return fail(m, r, "hard link \"" NAME_FMT "\" -> \"" NAME_FMT "\": %s", NAME_ARG(path),
                            NAME_ARG(hardlink), reason);
        if (isempty(*ret))
                return fail(m, EBADMSG, "hard link \"" NAME_FMT "\" -> the root directory", NAME_ARG(path));
        return 0;
}

/* Puts path in the tree for this layer: PLACE_* or a failure. */
static int place_entry(Merge *m, const char *path, bool is_dir, Node **ret_node) {
        int place = tree_place(m->tree, path, m->layer, is_dir, ret_node);

        if (place == -ENOTDIR)
                return fail(m, place, "entry \"" NAME_FMT "\": a parent is a non-directory of the same layer, or the root is not a directory", NAME_ARG(path));
        if (place == -EEXIST)
                return fail(m, place, "entry \"" NAME_FMT "\": listed twice in the layer as a directory and a non-directory", NAME_ARG(path));
        if (place < 0)
                return fail(m, place, "entry \"" NAME_FMT "\": %s", NAME_ARG(path), strerror(-place));
        if (place == PLACE_NEW && (*ret_node)->wait)
                waitlist_remove(*ret_node); /* a later entry of the same layer replaced a waiting link */
        return place;
}

/* A hard link: its node (when it is visible) waits with the links that
 * wanted path for the target's inode, found now or in a lower layer. */
static int add_hardlink(Merge *m, const char *path, const char *target, Seen *seen, int place, Node *node,
                        WaitList **waiters) {
        int r;

        seen->link = strdup(target);
        if (!seen->link)
                return fail(m, ENOMEM, "out of memory");
        if (place == PLACE_NEW) {
                if (!*waiters && !(*waiters = waitlist_new()))
                        return fail(m, ENOMEM, "out of memory");
                r = waitlist_add(*waiters, node);
                if (r < 0)
                        return fail(m, r, "out of memory");
        }
        if (!*waiters || (*waiters)->n == 0)
                return 0;
        r = links_resolve(m->links, target, *waiters);
        if (r == -EISDIR)
                return fail(m, EBADMSG, "hard link \"" NAME_FMT "\" -> \"" NAME_FMT "\": the target is a directory",
                            NAME_ARG(path), NAME_ARG(target));
        if (r == -ELOOP)
                return fail(m, r, "hard link \"" NAME_FMT "\" -> \"" NAME_FMT "\": chain of hard links too long or looping",
                            NAME_ARG(path), NAME_ARG(target));
        if (r < 0)
                return fail(m, r, "out of memory");
        return 0;
}

static int handle_entry(Merge *m, LayerReader *reader, struct archive_entry *e, uint64_t ordinal) {
        _cleanup_free_ char *path = NULL, *target = NULL;
        _cleanup_(waitlist_freep) WaitList *waiters = NULL;
        const char *name = entry_name(e), *reason = NULL, *hardlink;
        mode_t type;
        bool is_dir;
        Node *node;
        Seen *seen;
        int r, place;

        if (++m->n_entries > SQUASH_MAX_ENTRIES)
                return fail(m, E2BIG, "more than %u entries", SQUASH_MAX_ENTRIES);
        r = squash_path_normalize(name, &path, &reason);
        if (r == -ENOMEM)
                return fail(m, r, "out of memory");
        if (r < 0)
                return fail(m, r, "entry \"" NAME_FMT "\": %s", NAME_ARG(name), reason);
        r = handle_whiteout(m, path);
        if (r != 0)
                return r < 0 ? r : 0;

        hardlink = archive_entry_hardlink(e) ?: archive_entry_hardlink_utf8(e);
        type = archive_entry_filetype(e);
        if (!hardlink && !type_supported(type))
                return fail(m, EBADMSG, "entry \"" NAME_FMT "\": unsupported file type 0%o", NAME_ARG(path), (unsigned) type);
        is_dir = !hardlink && type == AE_IFDIR;
        if (hardlink && (r = hardlink_target(m, path, hardlink, &target)) < 0)
                return r;
        place = place_entry(m, path, is_dir, &node);
        if (place < 0)
                return place;

        r = links_take_pending(m->links, m->tree, path, &waiters);
        if (r < 0)
                return fail(m, r, "out of memory");
        if (waiters && is_dir)
                return fail(m, EBADMSG, "hard link to \"" NAME_FMT "\": the target is a directory", NAME_ARG(path));
        r = links_seen(m->links, path, ordinal, &seen);
        if (r < 0)
                return fail(m, r, "out of memory");
        seen->is_dir = is_dir;
        if (place == PLACE_NEW)
                seen->node = node;

        if (hardlink)
                return add_hardlink(m, path, target, seen, place, node, &waiters);
        if (is_dir)
                return place == PLACE_NEW || place == PLACE_FILL ? entry_metadata(m, e, path, node->inode, S_IFDIR) : 0;
        if (place != PLACE_NEW && !waiters)
                return 0; /* shadowed: libarchive skips the data */

        r = make_inode(m, reader, e, path, &seen->inode);
        if (r < 0)
                return r;
        if (place == PLACE_NEW)
                node->inode = seen->inode;
        if (waiters)
                waitlist_resolve(waiters, seen->inode);
        return 0;
}

/* Second pass over the current layer for the entries hard links want. */
static int reread_wanted(Merge *m) {
        _cleanup_(layer_reader_freep) LayerReader *reader = NULL;
        _cleanup_free_ char *msg = NULL;
        struct archive_entry *e;
        struct archive *a;
        uint64_t ordinal = 0;
        size_t left = links_n_wanted(m->links);
        int r;

        log_debug("layer %u: reading again for %zu hard link targets shadowed by upper layers", m->layer, left);
        r = layer_reader_open(m->cur->path, m->cur->media_type, m->cur->size, NULL, NULL, &reader, &msg);
        if (r < 0)
                return fail(m, r, "%s", msg ?: strerror(-r));
        a = layer_reader_archive(reader);
        while (left > 0) {
                _cleanup_free_ char *path = NULL;
                SquashInode *inode;
                WaitList *w;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return archive_fail(m, reader, a, "reading tar header");
                w = links_wanted(m->links, ++ordinal);
                if (!w)
                        continue;
                r = squash_path_normalize(entry_name(e), &path, NULL);
                if (r < 0)
                        return fail(m, r, "entry %llu changed between reads", (unsigned long long) ordinal);
                r = make_inode(m, reader, e, path, &inode);
                if (r < 0)
                        return r;
                waitlist_resolve(w, inode);
                left--;
        }
        if (left > 0)
                return fail(m, EBADMSG, "layer changed between reads");
        return 0;
}

static int merge_one(Merge *m) {
        _cleanup_(layer_reader_freep) LayerReader *reader = NULL;
        _cleanup_free_ char *msg = NULL;
        struct archive_entry *e;
        struct archive *a;
        uint64_t ordinal = 0;
        int r;

        links_begin_layer(m->links, m->layer);
        r = layer_reader_open(m->cur->path, m->cur->media_type, m->cur->size, report_progress, m, &reader, &msg);
        if (r < 0)
                return fail(m, r, "%s", msg ?: strerror(-r));
        a = layer_reader_archive(reader);
        for (;;) {
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return archive_fail(m, reader, a, "reading tar header");
                ordinal++;
                r = handle_entry(m, reader, e, ordinal);
                if (r < 0)
                        return r;
        }
        r = layer_reader_finish(reader);
        if (r < 0)
                return archive_fail(m, reader, a, "end of layer");

        if (links_n_wanted(m->links) > 0)
                return reread_wanted(m);
        return 0;
}

int merge_layers(const SquashLayer *layers, size_t n, Tree *tree, SqfsOut *out,
                 squash_progress_t progress, void *userdata, char **ret_error) {
        _cleanup_(links_freep) Links *links = NULL;
        Merge m = {
                .tree = tree,
                .out = out,
                .progress = progress,
                .userdata = userdata,
        };
        uint32_t link_layer;
        const char *link, *target;
        int r;

        assert(layers || n == 0);
        assert(tree);
        assert(out);

        r = links_new(&links);
        if (r < 0) {
                fail(&m, r, "out of memory");
                goto finish;
        }
        m.links = links;
        if (n > SQUASH_MAX_LAYERS) {
                r = fail(&m, E2BIG, "more than %u layers", SQUASH_MAX_LAYERS);
                goto finish;
        }
        for (size_t k = 0; k < n; k++) {
                struct stat st;

                if (layers[k].size > 0)
                        m.bytes_total += layers[k].size;
                else if (stat(layers[k].path, &st) >= 0)
                        m.bytes_total += (uint64_t) st.st_size;
        }

        /* Top layer first: the first layer to name a path decides it. */
        for (size_t k = n; k > 0; k--) {
                m.layer = (uint32_t) k;
                m.cur = &layers[k - 1];
                r = merge_one(&m);
                if (r < 0)
                        goto finish;
        }
        m.cur = NULL;

        if (links_first_unresolved(links, &link_layer, &link, &target)) {
                r = fail(&m, EBADMSG, "layer %u: hard link \"" NAME_FMT "\" -> \"" NAME_FMT "\": the target exists neither earlier in its layer nor below",
                         link_layer, NAME_ARG(link), NAME_ARG(target));
                goto finish;
        }
        if (m.xattrs_dropped > 0)
                log_warning("Dropped %llu xattrs outside user., trusted. and security. (squashfs cannot hold them).",
                            (unsigned long long) m.xattrs_dropped);
finish:
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(m.error);
        free(m.error);
        return r;
}
