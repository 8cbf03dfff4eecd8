/* Whole lines to a file descriptor: one write(2) per line, and a line a
 * full disk cut is taken back (a regular file is truncated to where the
 * line began; on a pipe the next line starts with a newline instead, so
 * only the cut line is lost to a reader). Used by the event log and the
 * key log; the caller serializes writers (each holds its own mutex). The
 * cp_wline_t does not own fd. No allocation but the one a cut line
 * needs. */
#ifndef CP_WLINE_H
#define CP_WLINE_H

#include <stddef.h>

typedef struct cp_wline_s {
  int fd;                  /* borrowed; -1: none */
  unsigned fd_regular : 1; /* a regular file: a cut line is truncated */
  unsigned partial : 1;    /* a cut line could not be taken back (a pipe):
                              the next line starts with a newline */
} cp_wline_t;

/* Sets w to write to fd (fstat tells whether it is a regular file). */
void cp_wline_init(cp_wline_t *w, int fd);
/* Takes back the last n bytes written (whole lines) from a regular file;
 * 0, or -1 when the file is not one or cannot be truncated. */
int cp_wline_unwrite(cp_wline_t *w, size_t n);
/* Writes line (len bytes, ending in a newline) whole, or takes back what
 * went out; 0, or an errno. A short count (a full disk writes what fits)
 * is retried once more for the rest, which then fails with the reason. */
int cp_wline_write(cp_wline_t *w, const char *line, size_t len);

#endif
