// ISC license.
// The one door to skalibs: its headers have no extern "C" guards, so every
// C++ file includes them through here and only through here. Never include a
// libowfat header in a file that includes this one (src/owfat/README).
#ifndef QF_SYS_SKALIBS_H
#define QF_SYS_SKALIBS_H

extern "C" {
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/env.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/uint64.h>
}

#endif
