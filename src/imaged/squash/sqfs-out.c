/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <search.h>
#include <stdbool.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqfs/block.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>
#include <sqfs/xattr_writer.h>

#include "macro.h"
#include "sqfs-out.h"

#define BLOCK_SIZE SQFS_DEFAULT_BLOCK_SIZE

/* libsquashfs's own sqfs_open_file() wants a path; this one works on the fd
 * of our temp file and remembers the errno of the last failure. */
typedef struct FdFile {
        sqfs_file_t base;
        int fd;
        uint64_t size;
        int error;
} FdFile;

struct SqfsOut {
        FdFile *file;
        sqfs_compressor_t *cmp, *uncmp;
        sqfs_super_t super;
        sqfs_block_writer_t *blkwr;
        sqfs_frag_table_t *fragtbl;
        sqfs_block_processor_t *proc;
        sqfs_id_table_t *idtbl;
        sqfs_xattr_writer_t *xwr;
        sqfs_meta_writer_t *im, *dm;
        sqfs_dir_writer_t *dirwr;
        uint32_t inode_count;
        bool in_file, finished;
};

static int fd_read_at(sqfs_file_t *base, sqfs_u64 offset, void *buffer, size_t size) {
        FdFile *f = (FdFile *) base;

        while (size > 0) {
                ssize_t n = pread(f->fd, buffer, size, (off_t) offset);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        f->error = errno;
                        return SQFS_ERROR_IO;
                }
                if (n == 0)
                        return SQFS_ERROR_OUT_OF_BOUNDS;
                buffer = (uint8_t *) buffer + n;
                size -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

static int fd_write_at(sqfs_file_t *base, sqfs_u64 offset, const void *buffer, size_t size) {
        FdFile *f = (FdFile *) base;

        while (size > 0) {
                ssize_t n = pwrite(f->fd, buffer, size, (off_t) offset);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        f->error = n < 0 ? errno : EIO;
                        return SQFS_ERROR_IO;
                }
                buffer = (const uint8_t *) buffer + n;
                size -= (size_t) n;
                offset += (uint64_t) n;
                if (offset > f->size)
                        f->size = offset;
        }
        return 0;
}

static sqfs_u64 fd_get_size(const sqfs_file_t *base) {
        return ((const FdFile *) base)->size;
}

static int fd_truncate(sqfs_file_t *base, sqfs_u64 size) {
        FdFile *f = (FdFile *) base;

        if (ftruncate(f->fd, (off_t) size) < 0) {
                f->error = errno;
                return SQFS_ERROR_IO;
        }
        f->size = size;
        return 0;
}

static void fd_destroy(sqfs_object_t *base) {
        free(base); /* the fd belongs to the caller */
}

static FdFile *fd_file_new(int fd) {
        FdFile *f = calloc(1, sizeof *f);

        if (!f)
                return NULL;
        f->base.base.destroy = fd_destroy;
        f->base.read_at = fd_read_at;
        f->base.write_at = fd_write_at;
        f->base.get_size = fd_get_size;
        f->base.truncate = fd_truncate;
        f->fd = fd;
        return f;
}

int sqfs_out_errno(SqfsOut *o, int e) {
        switch (e) {
        case 0:
                return 0;
        case SQFS_ERROR_ALLOC:
                return -ENOMEM;
        case SQFS_ERROR_IO:
                return o && o->file && o->file->error ? -o->file->error : -EIO;
        case SQFS_ERROR_OVERFLOW:
                return -EOVERFLOW;
        case SQFS_ERROR_ARG_INVALID:
                return -EINVAL;
        case SQFS_ERROR_UNSUPPORTED:
                return -EOPNOTSUPP;
        default:
                return -EIO;
        }
}

const char *sqfs_out_strerror(SqfsOut *o, int e) {
        switch (e) {
        case SQFS_ERROR_ALLOC:
                return "out of memory";
        case SQFS_ERROR_IO:
                return o && o->file && o->file->error ? strerror(o->file->error) : "I/O error";
        case SQFS_ERROR_COMPRESSOR:
                return "compressor failed";
        case SQFS_ERROR_OVERFLOW:
                return "size overflow";
        case SQFS_ERROR_UNSUPPORTED:
                return "unsupported by libsquashfs";
        case SQFS_ERROR_ARG_INVALID:
                return "invalid argument to libsquashfs";
        case SQFS_ERROR_SEQUENCE:
                return "libsquashfs calls out of sequence";
        default:
                return "libsquashfs internal error";
        }
}

int sqfs_out_new(int fd, int level, unsigned workers, SqfsOut **ret) {
        _cleanup_(sqfs_out_freep) SqfsOut *o = NULL;

        assert(ret);

        sqfs_compressor_config_t cfg;
        sqfs_block_processor_desc_t desc;
        int r;

        o = calloc(1, sizeof *o);
        if (!o)
                return -ENOMEM;
        o->file = fd_file_new(fd);
        if (!o->file)
                return -ENOMEM;

        r = sqfs_compressor_config_init(&cfg, SQFS_COMP_ZSTD, BLOCK_SIZE, 0);
        if (r < 0)
                return sqfs_out_errno(o, r);
        cfg.level = (sqfs_u32) level;
        r = sqfs_compressor_create(&cfg, &o->cmp);
        if (r < 0)
                return sqfs_out_errno(o, r);
        r = sqfs_compressor_config_init(&cfg, SQFS_COMP_ZSTD, BLOCK_SIZE, SQFS_COMP_FLAG_UNCOMPRESS);
        if (r < 0)
                return sqfs_out_errno(o, r);
        r = sqfs_compressor_create(&cfg, &o->uncmp);
        if (r < 0)
                return sqfs_out_errno(o, r);

        /* mtime 0: the same layers always give the same image. */
        r = sqfs_super_init(&o->super, BLOCK_SIZE, 0, SQFS_COMP_ZSTD);
        if (r < 0)
                return sqfs_out_errno(o, r);
        r = sqfs_super_write(&o->super, &o->file->base);
        if (r < 0)
                return sqfs_out_errno(o, r);
        r = o->cmp->write_options(o->cmp, &o->file->base);
        if (r < 0)
                return sqfs_out_errno(o, r);
        if (r > 0)
                o->super.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;

        o->blkwr = sqfs_block_writer_create(&o->file->base, SQFS_DEVBLK_SIZE, 0);
        o->fragtbl = sqfs_frag_table_create(0);
        o->idtbl = sqfs_id_table_create(0);
        o->xwr = sqfs_xattr_writer_create(0);
        if (!o->blkwr || !o->fragtbl || !o->idtbl || !o->xwr)
                return -ENOMEM;

        desc = (sqfs_block_processor_desc_t) {
                .size = sizeof desc,
                .max_block_size = BLOCK_SIZE,
                .num_workers = MAX(workers, 1U),
                /* enough queued blocks to keep every worker busy while the
                 * reader stalls on a slow inflate; 128 KiB each */
                .max_backlog = MAX(workers, 1U) * 16,
                .cmp = o->cmp,
                .wr = o->blkwr,
                .tbl = o->fragtbl,
                .file = &o->file->base,
                .uncmp = o->uncmp,
        };
        r = sqfs_block_processor_create_ex(&desc, &o->proc);
        if (r < 0)
                return sqfs_out_errno(o, r);

        o->im = sqfs_meta_writer_create(&o->file->base, o->cmp, 0);
        o->dm = sqfs_meta_writer_create(&o->file->base, o->cmp, SQFS_META_WRITER_KEEP_IN_MEMORY);
        if (!o->im || !o->dm)
                return -ENOMEM;
        o->dirwr = sqfs_dir_writer_create(o->dm, 0);
        if (!o->dirwr)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

SqfsOut *sqfs_out_free(SqfsOut *o) {
        if (!o)
                return NULL;
        /* libsquashfs 1.2 leaks the fragment block it is filling when the
         * processor is destroyed unfinished (an aborted conversion): finish
         * it into the doomed temp file first. */
        if (o->proc && !o->finished) {
                if (o->in_file)
                        (void) sqfs_block_processor_end_file(o->proc);
                (void) sqfs_block_processor_finish(o->proc);
        }
        /* The processor first: it joins its worker threads. */
        sqfs_destroy(o->proc);
        sqfs_destroy(o->dirwr);
        sqfs_destroy(o->dm);
        sqfs_destroy(o->im);
        sqfs_destroy(o->xwr);
        sqfs_destroy(o->idtbl);
        sqfs_destroy(o->fragtbl);
        sqfs_destroy(o->blkwr);
        sqfs_destroy(o->uncmp);
        sqfs_destroy(o->cmp);
        if (o->file)
                sqfs_destroy(&o->file->base);
        free(o);
        return NULL;
}

int sqfs_out_file_begin(SqfsOut *o, sqfs_inode_generic_t **inode) {
        int r = sqfs_block_processor_begin_file(o->proc, inode, NULL, 0);

        assert(o);
        assert(inode);

        o->in_file = r == 0;
        return r;
}

int sqfs_out_file_append(SqfsOut *o, const void *data, size_t size) {
        assert(o);
        assert(data || size == 0);

        return sqfs_block_processor_append(o->proc, data, size);
}

int sqfs_out_file_end(SqfsOut *o) {
        assert(o);

        o->in_file = false;
        return sqfs_block_processor_end_file(o->proc);
}

int sqfs_out_xattr_begin(SqfsOut *o) {
        assert(o);

        return sqfs_xattr_writer_begin(o->xwr, 0);
}

int sqfs_out_xattr_add(SqfsOut *o, const char *key, const void *value, size_t size) {
        assert(o);
        assert(key);
        assert(value || size == 0);

        return sqfs_xattr_writer_add(o->xwr, key, value, size);
}

int sqfs_out_xattr_end(SqfsOut *o, uint32_t *ret_idx) {
        assert(o);
        assert(ret_idx);

        return sqfs_xattr_writer_end(o->xwr, ret_idx);
}

/* Pass 1: the children each directory will list, in strcmp() order (the
 * order tsearch() keeps them in), inode numbers children-first, link counts. */
typedef struct CollectState {
        Node **v;
        size_t n, alloc;
        int error;
} CollectState;

static void collect_child(const void *nodep, VISIT which, void *userdata) {
        CollectState *s = userdata;
        Node *c = *(Node *const *) nodep;

        if (s->error || (which != postorder && which != leaf) || !node_emitted(c))
                return;
        if (s->n == s->alloc) {
                size_t na = MAX(s->alloc * 2, (size_t) 16);
                Node **nv = reallocarray(s->v, na, sizeof *nv);
                if (!nv) {
                        s->error = -ENOMEM;
                        return;
                }
                s->v = nv;
                s->alloc = na;
        }
        s->v[s->n++] = c;
}

static int number_tree(SqfsOut *o, Node *dir) {
        CollectState s = {};
        int r;

        if (dir->children)
                twalk_r(dir->children, collect_child, &s);
        if (s.error < 0) {
                free(s.v);
                return s.error;
        }
        dir->sorted = s.v;
        dir->n_sorted = s.n;
        dir->n_subdirs = 0;

        for (size_t i = 0; i < dir->n_sorted; i++) {
                Node *c = dir->sorted[i];

                if (!c->inode)
                        return -EUCLEAN; /* the merge resolves every link first */
                if (c->kind == NODE_DIR) {
                        dir->n_subdirs++;
                        r = number_tree(o, c);
                        if (r < 0)
                                return r;
                } else if (c->inode->nlink++ == 0)
                        c->inode->number = ++o->inode_count;
        }
        dir->inode->nlink = 1;
        dir->inode->number = ++o->inode_count;
        return 0;
}

static int set_base(SqfsOut *o, sqfs_inode_generic_t *sq, const SquashInode *i) {
        int r;

        sq->base.mode = (sqfs_u16) i->mode;
        sq->base.mod_time = i->mtime;
        sq->base.inode_number = i->number;
        r = sqfs_id_table_id_to_index(o->idtbl, i->uid, &sq->base.uid_idx);
        if (r < 0)
                return r;
        r = sqfs_id_table_id_to_index(o->idtbl, i->gid, &sq->base.gid_idx);
        if (r < 0)
                return r;
        return sqfs_inode_set_xattr_index(sq, i->xattr_idx);
}

static int write_inode(SqfsOut *o, sqfs_inode_generic_t *sq, SquashInode *i) {
        sqfs_u64 block;
        sqfs_u32 offset;

        sqfs_meta_writer_get_position(o->im, &block, &offset);
        i->ref = (block << 16) | offset;
        i->written = true;
        return sqfs_meta_writer_write_inode(o->im, sq);
}

static int write_leaf(SqfsOut *o, SquashInode *i) {
        _cleanup_free_ sqfs_inode_generic_t *own = NULL;
        sqfs_inode_generic_t *sq;
        size_t extra = 0;
        int r;

        if (S_ISREG(i->mode)) {
                sq = i->sq;
                if (!sq)
                        return SQFS_ERROR_INTERNAL;
                if (i->nlink > 1) {
                        r = sqfs_inode_make_extended(sq);
                        if (r < 0)
                                return r;
                        sq->data.file_ext.nlink = i->nlink;
                }
        } else {
                if (S_ISLNK(i->mode))
                        extra = strlen(i->symlink);
                own = calloc(1, sizeof *own + extra);
                if (!own)
                        return SQFS_ERROR_ALLOC;
                sq = own;
                switch (i->mode & S_IFMT) {
                case S_IFLNK:
                        sq->base.type = SQFS_INODE_SLINK;
                        sq->data.slink.nlink = i->nlink;
                        sq->data.slink.target_size = (sqfs_u32) extra;
                        sq->payload_bytes_available = sq->payload_bytes_used = (sqfs_u32) extra;
                        memcpy(sq->extra, i->symlink, extra);
                        break;
                case S_IFBLK:
                case S_IFCHR:
                        sq->base.type = S_ISBLK(i->mode) ? SQFS_INODE_BDEV : SQFS_INODE_CDEV;
                        sq->data.dev.nlink = i->nlink;
                        sq->data.dev.devno = i->devno;
                        break;
                case S_IFIFO:
                case S_IFSOCK:
                        sq->base.type = S_ISFIFO(i->mode) ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET;
                        sq->data.ipc.nlink = i->nlink;
                        break;
                default:
                        return SQFS_ERROR_INTERNAL;
                }
        }
        r = set_base(o, sq, i);
        if (r < 0)
                return r;
        return write_inode(o, sq, i);
}

static int write_dir(SqfsOut *o, Node *dir, uint32_t parent_number) {
        _cleanup_free_ sqfs_inode_generic_t *sq = NULL;
        int r;

        for (size_t k = 0; k < dir->n_sorted; k++) {
                Node *c = dir->sorted[k];

                if (c->kind == NODE_DIR)
                        r = write_dir(o, c, dir->inode->number);
                else
                        r = c->inode->written ? 0 : write_leaf(o, c->inode);
                if (r < 0)
                        return r;
        }

        r = sqfs_dir_writer_begin(o->dirwr, 0);
        if (r < 0)
                return r;
        for (size_t k = 0; k < dir->n_sorted; k++) {
                Node *c = dir->sorted[k];

                r = sqfs_dir_writer_add_entry(o->dirwr, c->name, c->inode->number, c->inode->ref,
                                              (sqfs_u16) c->inode->mode);
                if (r < 0)
                        return r;
        }
        r = sqfs_dir_writer_end(o->dirwr);
        if (r < 0)
                return r;

        sq = sqfs_dir_writer_create_inode(o->dirwr, 0, dir->inode->xattr_idx, parent_number);
        if (!sq)
                return SQFS_ERROR_ALLOC;
        /* create_inode() counts every entry; a directory's link count is its
         * subdirectories' ".." plus "." plus its own entry. */
        if (sq->base.type == SQFS_INODE_DIR)
                sq->data.dir.nlink = 2 + dir->n_subdirs;
        else
                sq->data.dir_ext.nlink = 2 + dir->n_subdirs;
        r = set_base(o, sq, dir->inode);
        if (r < 0)
                return r;
        return write_inode(o, sq, dir->inode);
}

static int pad_to_devblk(SqfsOut *o) {
        static const uint8_t zeros[SQFS_DEVBLK_SIZE];
        uint64_t rem = o->file->size % SQFS_DEVBLK_SIZE;

        if (rem == 0)
                return 0;
        return o->file->base.write_at(&o->file->base, o->file->size, zeros, SQFS_DEVBLK_SIZE - rem);
}

int sqfs_out_finish(SqfsOut *o, Tree *t) {
        sqfs_file_t *f = &o->file->base;
        int r;

        assert(o);
        assert(t);

        o->finished = true;
        r = sqfs_block_processor_finish(o->proc);
        if (r < 0)
                return r;

        o->inode_count = 0;
        r = number_tree(o, t->root);
        if (r < 0)
                return r == -ENOMEM ? SQFS_ERROR_ALLOC : SQFS_ERROR_INTERNAL;

        o->super.inode_table_start = f->get_size(f);
        /* The root's ".." points one past the last inode, as mksquashfs does. */
        r = write_dir(o, t->root, o->inode_count + 1);
        if (r < 0)
                return r;
        o->super.root_inode_ref = t->root->inode->ref;
        r = sqfs_meta_writer_flush(o->im);
        if (r < 0)
                return r;
        r = sqfs_meta_writer_flush(o->dm);
        if (r < 0)
                return r;
        o->super.directory_table_start = f->get_size(f);
        r = sqfs_meta_write_write_to_file(o->dm);
        if (r < 0)
                return r;

        r = sqfs_frag_table_write(o->fragtbl, f, &o->super, o->cmp);
        if (r < 0)
                return r;
        r = sqfs_id_table_write(o->idtbl, f, &o->super, o->cmp);
        if (r < 0)
                return r;
        r = sqfs_xattr_writer_flush(o->xwr, f, &o->super, o->cmp); /* must be last */
        if (r < 0)
                return r;

        o->super.inode_count = o->inode_count;
        o->super.bytes_used = f->get_size(f);
        r = sqfs_super_write(&o->super, f);
        if (r < 0)
                return r;
        return pad_to_devblk(o);
}
