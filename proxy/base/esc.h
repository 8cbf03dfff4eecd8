/* Peer bytes made safe for text sinks: a terminal (`chainproxy verify`),
 * a text/plain body chainproxy writes to a client (the 502), the operator
 * log on stderr. Certificate names are bytes chosen by whoever made the
 * certificate: an ESC moves the cursor or recolours a terminal, CR and LF
 * forge lines, bidi controls (U+202E) reorder what a reader sees. Each is
 * written as a visible escape instead; valid UTF-8 text ("Zürich") is
 * kept. Backslashes are not doubled, so escaping is idempotent (escaping
 * escaped text changes nothing) but not reversible: the JSON events are
 * the exact record. Pure functions; no allocation, no I/O. */
#ifndef CP_ESC_H
#define CP_ESC_H

#include <stddef.h>

/* Multi-line text: LF is kept (everything else is escaped as usual). Only
 * for text whose lines chainproxy built; each field in it must have been
 * escaped without this flag. */
#define CP_ESC_KEEP_LF 0x1u
/* Only bytes that are not UTF-8 are escaped (\xNN); every code point is
 * kept, NUL and controls included. For JSON strings: jansson needs valid
 * UTF-8 and escapes the rest itself. */
#define CP_ESC_UTF8_ONLY 0x2u

/* The most an escape can take for n input bytes ("\xNN" for each), and the
 * terminating NUL. */
#define CP_ESC_SIZE(n) (4 * (size_t)(n) + 1)

/* Escapes len bytes of in into out (cap bytes):
 *   C0 controls, DEL and NUL       \x1b  \x0d  \x0a  \x00  \x7f
 *   C1 controls (U+0080..U+009F)   \u009b
 *   bidi, zero-width and other invisible format characters (U+061C,
 *   U+180E, U+200B..U+200F, U+2028..U+202E, U+2060..U+2064,
 *   U+2066..U+206F, U+FEFF, U+FFF9..U+FFFB, tags U+E0001, U+E0020..U+E007F)
 *                                  \u202e  \U000e0041
 *   each byte that is not part of a valid UTF-8 sequence (overlong forms,
 *   surrogates and code points past U+10FFFF included)   \xff
 * out is always NUL-terminated (cap > 0) and cut only between whole
 * characters or escapes; in and out must not overlap. Returns the bytes
 * written, without the NUL (with CP_ESC_UTF8_ONLY, out may hold NULs: use
 * the length). */
size_t cp_esc_term(char *out, size_t cap, const void *in, size_t len,
                   unsigned flags);
/* A C string escaped into out (cap bytes) as above, no flags; NULL is
 * written as "". Returns out, for use as a printf argument. */
const char *cp_esc_str(char *out, size_t cap, const char *s);
/* 1 when len bytes at in are valid UTF-8 (NUL allowed). */
int cp_esc_utf8_valid(const void *in, size_t len);

#endif
