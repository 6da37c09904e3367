# cython: language_level=3
"""fastcount: a Cython module written for the GIL, as many are.

`ftaudit scan examples/` reports its free-threading hazards; the safe
look-alikes (module-level Python names, locked updates, work done at import,
a critical section) stay quiet.
"""
cimport cython
from cython.parallel cimport prange
from libc.string cimport strtok
from cpython.dict cimport PyDict_GetItem

cdef long ncalls = 0              # a C global every thread bumps
cdef object _vocabulary = None    # built on first use: a lazy-initialisation race
cdef long nlocked = 0             # the same counter, done right
cdef cython.pymutex lock
cdef dict STOPWORDS = {"a": 1, "the": 1}  # shared: its items are borrowed without a lock
version = "1.0"                   # a module-dict name, not a C global


def vocabulary():
    global _vocabulary
    if _vocabulary is None:
        _vocabulary = {}
    return _vocabulary


def count_words(bytes text):
    global ncalls, nlocked
    ncalls += 1
    with lock:
        nlocked += 1
    cdef char *word = strtok(text, b" ")
    cdef int n = 0
    while word != NULL:
        if PyDict_GetItem(STOPWORDS, word) == NULL:
            n += 1
        word = strtok(NULL, b" ")
    return n


def total(double[:] values):
    cdef Py_ssize_t i
    cdef double s = 0
    for i in prange(values.shape[0], nogil=True):
        s += values[i]
        if values[i] < 0:
            with gil:
                print("negative value at", i)
    return s


cdef class Histogram:
    cdef list buckets
    cdef long seen

    def __cinit__(self):
        self.buckets = []
        self.seen = 0

    def add(self, value):
        with cython.critical_section(self):
            self.buckets.append(value)
            self.seen += 1
