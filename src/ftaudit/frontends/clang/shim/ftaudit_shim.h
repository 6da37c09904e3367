/*
 * ftaudit analysis shim: force-included (-include) before every scanned file
 * that uses the Python C API. It is never compiled into anything.
 *
 * 1. Analyse as a free-threaded CPython 3.14 build compiles the file: the
 *    installed headers keep their own configuration, but user code sees
 *    PY_VERSION_HEX >= 3.14 and Py_GIL_DISABLED, so `#if PY_VERSION_HEX >=
 *    0x030D0000` / `#ifdef Py_GIL_DISABLED` branches (where Py_mod_gil slots
 *    and the modern API live) are the ones analysed.
 * 2. Declare the free-threading API that older installed headers lack
 *    (PyMutex, critical sections, *Ref functions, Py_mod_gil).
 * 3. Turn API macros into calls of known names, so every rule sees
 *    `PyList_GET_ITEM(l, i)` or `Py_BEGIN_CRITICAL_SECTION(op)` the same way
 *    whatever the header version (a name prefixed ftaudit_ is reported
 *    without the prefix).
 */
#ifndef FTAUDIT_SHIM_H
#define FTAUDIT_SHIM_H

#include <Python.h>

#if PY_VERSION_HEX < 0x030D0000
#  define FTAUDIT_PRE_313 1
#endif
#if PY_VERSION_HEX < 0x030E0000
#  define FTAUDIT_PRE_314 1
#endif

#undef PY_VERSION_HEX
#define PY_VERSION_HEX 0x030E00F0
#undef PY_MINOR_VERSION
#define PY_MINOR_VERSION 14
#ifndef Py_GIL_DISABLED
#  define Py_GIL_DISABLED 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef FTAUDIT_PRE_313
typedef struct PyMutex { unsigned char _bits; } PyMutex;
void PyMutex_Lock(PyMutex *m);
void PyMutex_Unlock(PyMutex *m);
typedef struct PyCriticalSection { void *_cs_prev; PyMutex *_cs_mutex; } PyCriticalSection;
typedef struct PyCriticalSection2 { PyCriticalSection _cs_base; PyMutex *_cs_mutex2; } PyCriticalSection2;
void PyCriticalSection_Begin(PyCriticalSection *c, PyObject *op);
void PyCriticalSection_End(PyCriticalSection *c);
void PyCriticalSection2_Begin(PyCriticalSection2 *c, PyObject *a, PyObject *b);
void PyCriticalSection2_End(PyCriticalSection2 *c);
PyObject *PyList_GetItemRef(PyObject *list, Py_ssize_t i);
int PyList_Extend(PyObject *list, PyObject *iterable);
int PyList_Clear(PyObject *list);
int PyDict_GetItemRef(PyObject *p, PyObject *key, PyObject **result);
int PyDict_GetItemStringRef(PyObject *p, const char *key, PyObject **result);
int PyDict_SetDefaultRef(PyObject *p, PyObject *key, PyObject *dflt, PyObject **result);
int PyDict_Pop(PyObject *p, PyObject *key, PyObject **result);
int PyDict_PopString(PyObject *p, const char *key, PyObject **result);
int PyDict_ContainsString(PyObject *p, const char *key);
int PyWeakref_GetRef(PyObject *ref, PyObject **pobj);
PyObject *PyImport_AddModuleRef(const char *name);
PyObject *PyEval_GetFrameBuiltins(void);
PyObject *PyEval_GetFrameGlobals(void);
PyObject *PyEval_GetFrameLocals(void);
int PyUnstable_Module_SetGIL(PyObject *module, void *gil);
int PyLong_AsInt(PyObject *obj);
int PyObject_GetOptionalAttr(PyObject *obj, PyObject *name, PyObject **result);
int PyObject_GetOptionalAttrString(PyObject *obj, const char *name, PyObject **result);
int PyMapping_GetOptionalItem(PyObject *obj, PyObject *key, PyObject **result);
int PyModule_Add(PyObject *module, const char *name, PyObject *value);
#  define Py_mod_gil 4
#  define Py_MOD_GIL_USED ((void *)0)
#  define Py_MOD_GIL_NOT_USED ((void *)1)
#endif

#ifdef FTAUDIT_PRE_314
int PyUnstable_Object_IsUniquelyReferenced(PyObject *op);
int PyUnstable_Object_IsUniqueReferencedTemporary(PyObject *op);
#endif

/* Critical sections: always calls, even where headers make them no-ops. */
#undef Py_BEGIN_CRITICAL_SECTION
#undef Py_END_CRITICAL_SECTION
#undef Py_BEGIN_CRITICAL_SECTION2
#undef Py_END_CRITICAL_SECTION2
#undef Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST
#undef Py_END_CRITICAL_SECTION_SEQUENCE_FAST
#define Py_BEGIN_CRITICAL_SECTION(op) \
    { PyCriticalSection _py_cs; PyCriticalSection_Begin(&_py_cs, (PyObject *)(op))
#define Py_END_CRITICAL_SECTION() PyCriticalSection_End(&_py_cs); }
#define Py_BEGIN_CRITICAL_SECTION2(a, b) \
    { PyCriticalSection2 _py_cs2; PyCriticalSection2_Begin(&_py_cs2, (PyObject *)(a), (PyObject *)(b))
#define Py_END_CRITICAL_SECTION2() PyCriticalSection2_End(&_py_cs2); }
#define Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST(op) \
    { PyCriticalSection _py_cs; PyCriticalSection_Begin(&_py_cs, (PyObject *)(op))
#define Py_END_CRITICAL_SECTION_SEQUENCE_FAST() PyCriticalSection_End(&_py_cs); }

/* API macros as calls of known names. */
PyObject *ftaudit_PyList_GET_ITEM(const void *op, Py_ssize_t i);
void ftaudit_PyList_SET_ITEM(const void *op, Py_ssize_t i, const void *v);
PyObject *ftaudit_PyTuple_GET_ITEM(const void *op, Py_ssize_t i);
void ftaudit_PyTuple_SET_ITEM(const void *op, Py_ssize_t i, const void *v);
PyObject *ftaudit_PySequence_Fast_GET_ITEM(const void *op, Py_ssize_t i);
PyObject **ftaudit_PySequence_Fast_ITEMS(const void *op);
PyObject *ftaudit_PyCell_GET(const void *op);
PyObject *ftaudit_PyWeakref_GET_OBJECT(const void *op);
Py_ssize_t ftaudit_Py_REFCNT(const void *op);
#undef PyList_GET_ITEM
#undef PyList_SET_ITEM
#undef PyTuple_GET_ITEM
#undef PyTuple_SET_ITEM
#undef PySequence_Fast_GET_ITEM
#undef PySequence_Fast_ITEMS
#undef PyCell_GET
#undef PyWeakref_GET_OBJECT
#undef Py_REFCNT
#define PyList_GET_ITEM(op, i) ftaudit_PyList_GET_ITEM((op), (i))
#define PyList_SET_ITEM(op, i, v) ftaudit_PyList_SET_ITEM((op), (i), (v))
#define PyTuple_GET_ITEM(op, i) ftaudit_PyTuple_GET_ITEM((op), (i))
#define PyTuple_SET_ITEM(op, i, v) ftaudit_PyTuple_SET_ITEM((op), (i), (v))
#define PySequence_Fast_GET_ITEM(op, i) ftaudit_PySequence_Fast_GET_ITEM((op), (i))
#define PySequence_Fast_ITEMS(op) ftaudit_PySequence_Fast_ITEMS(op)
#define PyCell_GET(op) ftaudit_PyCell_GET(op)
#define PyWeakref_GET_OBJECT(op) ftaudit_PyWeakref_GET_OBJECT(op)
#define Py_REFCNT(op) ftaudit_Py_REFCNT(op)

#ifdef __cplusplus
}
#endif

#endif /* FTAUDIT_SHIM_H */
