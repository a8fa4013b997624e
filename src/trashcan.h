/* trashcan.h: trashcan.c's interface.  Plain C types only: trashcan.c is
 * compiled with CPython's internal headers on 3.14+, the rest of gcx
 * without. */
#ifndef GCX_TRASHCAN_H
#define GCX_TRASHCAN_H

/* Drop a reference to op, the thread's limits moved so that CPython's
 * trashcan defers a chain of nested containers about 100 (3.13) or 425
 * (3.14+) levels down (3.12's defers at 50 as it is); op must free
 * without running Python code (D3). */
void gcx_trashcan_drop(PyObject *op);

#endif
