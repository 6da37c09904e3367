/*
 * spam: a small extension module written for the GIL, as many are.
 * `ftaudit scan examples/` reports its free-threading hazards; the safe
 * look-alikes next to them (kwargs lookups, tuples, fresh lists, locked
 * regions, state set up in the exec slot, atomics) stay quiet.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <time.h>

static PyMutex registry_lock;
static PyObject *registry;  /* dict name -> callback, shared by all threads; set in spam_exec */
static long ncalls;         /* a counter every thread bumps: a lost-update race */
static _Atomic long nstamps;  /* the same, done right */
static PyObject *empty_str;  /* created on first use: a lazy-initialisation race */

/* Borrowed item from a list the caller still owns and may mutate. */
static PyObject *
spam_first(PyObject *self, PyObject *list)
{
    PyObject *item = PyList_GetItem(list, 0);
    if (item == NULL) {
        return NULL;
    }
    return Py_NewRef(item);
}

/* kwargs lookups and tuple access are private to the call: fine. */
static PyObject *
spam_call(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *name = PyTuple_GET_ITEM(args, 0);
    PyObject *flag = kwds ? PyDict_GetItemString(kwds, "flag") : NULL;
    PyObject *callback = PyDict_GetItemWithError(registry, name);
    if (callback == NULL) {
        return NULL;
    }
    return PyObject_CallOneArg(callback, flag ? flag : Py_None);
}

/* The same lookup under the registry lock: fine. */
static PyObject *
spam_lookup(PyObject *self, PyObject *name)
{
    PyObject *result;
    PyMutex_Lock(&registry_lock);
    result = PyDict_GetItem(registry, name);
    if (result == NULL) {
        PyMutex_Unlock(&registry_lock);
        Py_RETURN_NONE;
    }
    Py_INCREF(result);
    PyMutex_Unlock(&registry_lock);
    return result;
}

/* Iterating a shared dict without a critical section. */
static PyObject *
spam_names(PyObject *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    PyObject *names = PyList_New(0);
    if (names == NULL) {
        return NULL;
    }
    while (PyDict_Next(registry, &pos, &key, &value)) {
        if (PyList_Append(names, key) < 0) {
            Py_DECREF(names);
            return NULL;
        }
    }
    return names;
}

/* Fresh list filled with the unlocked macros: fine. */
static PyObject *
spam_pair(PyObject *self, PyObject *args)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO", &a, &b)) {
        return NULL;
    }
    PyObject *pair = PyList_New(2);
    if (pair == NULL) {
        return NULL;
    }
    PyList_SET_ITEM(pair, 0, Py_NewRef(a));
    PyList_SET_ITEM(pair, 1, Py_NewRef(b));
    return pair;
}

/* Summing a caller's list with PyList_GET_ITEM: racy; inside a critical section: fine. */
static PyObject *
spam_total(PyObject *self, PyObject *list)
{
    long total = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        total += PyLong_AsLong(PyList_GET_ITEM(list, i));
    }
    Py_BEGIN_CRITICAL_SECTION(list);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        total += PyLong_AsLong(PyList_GET_ITEM(list, i));
    }
    Py_END_CRITICAL_SECTION();
    return PyLong_FromLong(total);
}

/* In-place append when "nobody else" holds the list. */
static PyObject *
spam_extend(PyObject *self, PyObject *args)
{
    PyObject *list, *item;
    if (!PyArg_ParseTuple(args, "OO", &list, &item)) {
        return NULL;
    }
    if (Py_REFCNT(list) == 1) {
        PyList_Append(list, item);
        return Py_NewRef(list);
    }
    return PySequence_Concat(list, item);
}

/* libc with hidden static state. */
static PyObject *
spam_stamp(PyObject *self, PyObject *arg)
{
    ncalls++;
    nstamps++;
    time_t t = (time_t)PyLong_AsLong(arg);
    struct tm *tm = localtime(&t);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d", tm);
    return PyUnicode_FromString(buf);
}

static PyObject *
spam_stamp_r(PyObject *self, PyObject *arg)
{
    time_t t = (time_t)PyLong_AsLong(arg);
    struct tm tm;
    char buf[64];
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return PyUnicode_FromString(buf);
}

/* Check-then-set on a static: two threads can both create it. */
static PyObject *
spam_empty(PyObject *self, PyObject *unused)
{
    if (empty_str == NULL) {
        empty_str = PyUnicode_FromString("");
    }
    return Py_NewRef(empty_str);
}

static PyMethodDef spam_methods[] = {
    {"empty", spam_empty, METH_NOARGS, NULL},
    {"first", spam_first, METH_O, NULL},
    {"call", (PyCFunction)(void (*)(void))spam_call, METH_VARARGS | METH_KEYWORDS, NULL},
    {"lookup", spam_lookup, METH_O, NULL},
    {"names", spam_names, METH_NOARGS, NULL},
    {"pair", spam_pair, METH_VARARGS, NULL},
    {"total", spam_total, METH_O, NULL},
    {"extend", spam_extend, METH_VARARGS, NULL},
    {"stamp", spam_stamp, METH_O, NULL},
    {"stamp_r", spam_stamp_r, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static int
spam_exec(PyObject *module)
{
    registry = PyDict_New();
    return registry == NULL ? -1 : PyModule_AddObjectRef(module, "registry", registry);
}

static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
    {0, NULL},
};

static struct PyModuleDef spam_module = {
    PyModuleDef_HEAD_INIT, "spam", NULL, 0, spam_methods, spam_slots,
};

PyMODINIT_FUNC
PyInit_spam(void)
{
    return PyModuleDef_Init(&spam_module);
}
