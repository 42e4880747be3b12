/*
 * output.c - an output file: zstd on the fly, the SHA-256 of what is
 * written, fsync and the atomic rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "export_int.h"

/* ---- output files: zstd on the fly, SHA-256 of what is written, atomic ------ */

void out_init(struct out *w, struct export_file *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->fd = -1;
	buf_init(&w->pending, BUF_MAX_DEFAULT);
	buf_init(&w->z, BUF_MAX_DEFAULT);
}

static int dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	int len;

	if (!slash)
		len = snprintf(dir, n, ".");
	else if (slash == path)
		len = snprintf(dir, n, "/");
	else
		len = snprintf(dir, n, "%.*s", (int)(slash - path), path);
	if (len < 0 || (size_t)len >= n)
		return err_set(CL_ETOOBIG, "path '%s' is too long", path);
	return 0;
}

/* A temporary file beside path, with the mode a new file would get. */
int out_open(struct out *w, const char *path, int compress)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	char dir[4096];
	mode_t mask;
	int len, rc;

	w->to_stdout = !path || strcmp(path, "-") == 0;
	if (w->to_stdout) {
		snprintf(w->f->path, sizeof(w->f->path), "-");
		w->fd = STDOUT_FILENO;
	} else {
		len = snprintf(w->f->path, sizeof(w->f->path), "%s", path);
		if (len < 0 || (size_t)len >= sizeof(w->f->path))
			return err_set(CL_ETOOBIG, "path '%s' is too long", path);
		rc = dir_of(path, dir, sizeof(dir));
		if (rc)
			return rc;
		len = snprintf(w->tmp, sizeof(w->tmp), "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path);
		if (len < 0 || (size_t)len >= sizeof(w->tmp)) {
			w->tmp[0] = '\0';
			return err_set(CL_ETOOBIG, "path '%s' is too long", path);
		}
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
		if (w->fd < 0) {
			rc = err_set(CL_EIO, "cannot create a temporary file in '%s': %s", dir,
				     strerror(errno));
			w->tmp[0] = '\0';
			return rc;
		}
		mask = umask(022);
		umask(mask);
		if (fchmod(w->fd, 0666 & ~mask) != 0)
			return err_set(CL_EIO, "cannot set the mode of '%s': %s", w->tmp,
				       strerror(errno));
	}
	w->md = EVP_MD_CTX_new();
	if (!w->md || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		return err_set(CL_ENOMEM, "cannot start a SHA-256 digest");
	if (compress) {
		size_t zrc;

		w->cctx = ZSTD_createCCtx();
		if (!w->cctx)
			return CL_ENOMEM;
		zrc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
		if (!ZSTD_isError(zrc))
			zrc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
		if (ZSTD_isError(zrc))
			return err_set(CL_ECODEC, "zstd: %s", ZSTD_getErrorName(zrc));
		/* compression in zstd's worker threads, beside the walk: its output
		 * is the same for any number of workers from one.  Two workers
		 * can take up a core whenever the walk's threads wait on each
		 * other (measured: the best of 15 runs 0.64 s, against 0.69 s
		 * with one); jobs of 2 MB keep their memory small */
		if (!ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, 2)))
			ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_jobSize, 2 << 20);
		rc = buf_reserve(&w->z, ZSTD_CStreamOutSize());
		if (rc)
			return rc;
	}
	return 0;
}

static const char *out_name(const struct out *w)
{
	return w->to_stdout ? "standard output" : w->f->path;
}

/* Written bytes after which their writeback is started, so that the
 * final fsync finds little left to do. */
#define WRITEBACK_EVERY ((uint64_t)8 << 20)

static int out_write(struct out *w, const void *p, size_t n)
{
	const char *c = p;

	if (!w->to_stdout && w->f->bytes - w->synced >= WRITEBACK_EVERY) {
		sync_file_range(w->fd, (off_t)w->synced, (off_t)(w->f->bytes - w->synced),
				SYNC_FILE_RANGE_WRITE);
		w->synced = w->f->bytes;
	}

	if (EVP_DigestUpdate(w->md, p, n) != 1)
		return err_set(CL_EIO, "cannot hash the output");
	w->f->bytes += n;
	while (n > 0) {
		ssize_t k = write(w->fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(CL_EIO, "cannot write '%s': %s", out_name(w), strerror(errno));
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Write what is pending; end: close the zstd frame too. */
static int out_flush(struct out *w, int end)
{
	int rc = 0;

	if (!w->cctx) {
		rc = out_write(w, w->pending.data, w->pending.len);
	} else {
		ZSTD_inBuffer in = { w->pending.data, w->pending.len, 0 };
		size_t left;

		do {
			ZSTD_outBuffer zo = { w->z.data, w->z.cap, 0 };

			left = ZSTD_compressStream2(w->cctx, &zo, &in,
						    end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left))
				return err_set(CL_ECODEC, "cannot compress '%s': %s", out_name(w),
					       ZSTD_getErrorName(left));
			rc = out_write(w, zo.dst, zo.pos);
		} while (!rc && (end ? left != 0 : in.pos < in.size));
	}
	buf_reset(&w->pending);
	return rc;
}

int out_add(struct out *w, const char *p, size_t n)
{
	int rc = buf_add(&w->pending, p, n);

	if (rc)
		return err_set(rc, "cannot buffer '%s'", out_name(w));
	w->f->jsonl_bytes += n;
	if (w->pending.len >= OUT_CHUNK)
		rc = out_flush(w, 0);
	return rc;
}

/* Flush, end the frame, sync and close; the digest into f->sha256. */
int out_finish(struct out *w)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	rc = out_flush(w, 1);
	if (rc)
		return rc;
	if (EVP_DigestFinal_ex(w->md, md, &mdlen) != 1 || mdlen != HASH_SHA256_LEN)
		return err_set(CL_EIO, "cannot hash the output");
	hash_hex(md, mdlen, w->f->sha256);
	if (w->to_stdout)
		return 0;
	if (fsync(w->fd) != 0)
		return err_set(CL_EIO, "cannot sync '%s': %s", w->tmp, strerror(errno));
	rc = close(w->fd);
	w->fd = -1;
	if (rc != 0)
		return err_set(CL_EIO, "cannot close '%s': %s", w->tmp, strerror(errno));
	return 0;
}

int out_commit(struct out *w)
{
	if (w->to_stdout || !w->tmp[0])
		return 0;
	if (rename(w->tmp, w->f->path) != 0)
		return err_set(CL_EIO, "cannot rename '%s' to '%s': %s", w->tmp, w->f->path,
			       strerror(errno));
	w->tmp[0] = '\0';
	return 0;
}

/* Close and free; a temporary file not renamed is removed. */
void out_release(struct out *w)
{
	if (w->fd >= 0 && !w->to_stdout)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0])
		unlink(w->tmp);
	w->tmp[0] = '\0';
	ZSTD_freeCCtx(w->cctx);
	w->cctx = NULL;
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
	buf_release(&w->pending);
	buf_release(&w->z);
}

int export_sync_dir(const char *path)
{
	char dir[4096];
	int fd, rc;

	rc = dir_of(path, dir, sizeof(dir));
	if (rc)
		return rc;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(CL_EIO, "cannot open '%s': %s", dir, strerror(errno));
	rc = fsync(fd) != 0 ? err_set(CL_EIO, "cannot sync '%s': %s", dir, strerror(errno)) : 0;
	close(fd);
	return rc;
}
