#include "base/wline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void cp_wline_init(cp_wline_t *w, int fd) {
  struct stat st;

  memset(w, 0, sizeof(*w));
  w->fd = fd;
  w->fd_regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}


/* A line that got out only in part: taken back from a regular file
 * (truncated to where it began, so the next line starts there); from a
 * pipe or a terminal it cannot be, and the next line is written after a
 * newline instead. */
static void take_back(cp_wline_t *w, size_t sent) {
  off_t end;

  if (w->fd_regular) {
    /* O_APPEND: the offset is the end of what this write added. */
    end = lseek(w->fd, 0, SEEK_CUR);
    if (end >= (off_t)sent && ftruncate(w->fd, end - (off_t)sent) == 0) {
      lseek(w->fd, end - (off_t)sent, SEEK_SET);
      return;
    }
  }
  w->partial = 1;
}


int cp_wline_unwrite(cp_wline_t *w, size_t n) {
  off_t end;

  if (!w->fd_regular || w->partial) {
    return -1;
  }
  end = lseek(w->fd, 0, SEEK_CUR);
  if (end < (off_t)n || ftruncate(w->fd, end - (off_t)n) != 0) {
    return -1;
  }
  lseek(w->fd, end - (off_t)n, SEEK_SET);
  return 0;
}


int cp_wline_write(cp_wline_t *w, const char *line, size_t len) {
  char *buf = NULL;
  size_t off = 0;
  ssize_t n;
  int err = 0;

  if (w->partial) {
    buf = malloc(len + 1);
    if (buf == NULL) {
      return ENOMEM;
    }
    buf[0] = '\n'; /* ends the cut line that is out there */
    memcpy(buf + 1, line, len);
    line = buf;
    len++;
  }
  while (off < len) {
    n = write(w->fd, line + off, len - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    off += (size_t)n;
  }
  free(buf);
  if (off == len) {
    w->partial = 0;
    return 0;
  }
  if (off > 0) {
    take_back(w, off);
  }
  return err;
}
