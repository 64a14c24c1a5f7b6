// The header-only helpers of this target are `static inline`; SwiftPM needs one source file per C target.
#include "retention_prefetch.h"
