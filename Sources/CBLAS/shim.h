// OpenBLAS's cblas interface (Debian: libopenblas-dev, pkg-config `openblas`).
#include <cblas.h>
// Thread-count control (OpenBLAS extension, declared in cblas.h of OpenBLAS builds).
