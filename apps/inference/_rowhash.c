/* Spec §6 hashing without a Python call per row or per tree node.
 *
 * apps/inference/rowhash.py builds the rows' canonical JSON texts as Arrow columns;
 * this module hashes them: the hex SHA-256 of each input text, the RFC 6962 leaf hash
 * of each leaf text, and the RFC 6962 tree hash over leaf hashes. Values come in as
 * Arrow's buffers (int32 offsets and data), results go out as one bytes object, and the
 * GIL is released while hashing, so a chunk is hashed while the model scores the next.
 * SHA-256 is OpenSSL's (with the CPU's SHA instructions where present); rowhash.py has
 * a pure-Python path that gives the same bytes where this module was not built. */

#define PY_SSIZE_T_CLEAN
#define OPENSSL_API_COMPAT 0x10100000L
#include <Python.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define HASH_SIZE SHA256_DIGEST_LENGTH

static const char HEX_DIGITS[] = "0123456789abcdef";

/* Checks that `offsets` holds n + 1 non-decreasing int32 offsets inside `data`. */
static int offsets_check(const Py_buffer *offsets, const Py_buffer *data, Py_ssize_t *count)
{
    if (offsets->len % sizeof(int32_t) != 0 || offsets->len < (Py_ssize_t)sizeof(int32_t)) {
        PyErr_SetString(PyExc_ValueError, "offsets must hold n + 1 int32 values");
        return -1;
    }
    const int32_t *off = (const int32_t *)offsets->buf;
    Py_ssize_t n = offsets->len / (Py_ssize_t)sizeof(int32_t) - 1;
    if (off[0] < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets must not be negative");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (off[i + 1] < off[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets must not decrease");
            return -1;
        }
    }
    if ((Py_ssize_t)off[n] > data->len) {
        PyErr_SetString(PyExc_ValueError, "offsets point past the end of the data");
        return -1;
    }
    *count = n;
    return 0;
}

/* sha256_hex(offsets, data) -> bytes: the lowercase hex SHA-256 of each value, 64
 * characters per value, back to back. */
static PyObject *sha256_hex(PyObject *self, PyObject *args)
{
    Py_buffer offsets, data;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*y*", &offsets, &data))
        return NULL;
    PyObject *out = NULL;
    if (offsets_check(&offsets, &data, &n) == 0) {
        out = PyBytes_FromStringAndSize(NULL, n * 2 * HASH_SIZE);
        if (out != NULL) {
            char *hex = PyBytes_AS_STRING(out);
            const int32_t *off = (const int32_t *)offsets.buf;
            const unsigned char *bytes = (const unsigned char *)data.buf;
            Py_BEGIN_ALLOW_THREADS
            unsigned char digest[HASH_SIZE];
            for (Py_ssize_t i = 0; i < n; i++) {
                SHA256(bytes + off[i], (size_t)(off[i + 1] - off[i]), digest);
                for (int k = 0; k < HASH_SIZE; k++) {
                    *hex++ = HEX_DIGITS[digest[k] >> 4];
                    *hex++ = HEX_DIGITS[digest[k] & 15];
                }
            }
            Py_END_ALLOW_THREADS
        }
    }
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    return out;
}

/* leaf_hashes(offsets, data) -> bytes: SHA-256(0x00 || value) of each value (RFC 6962
 * leaf hash), 32 bytes per value, back to back. */
static PyObject *leaf_hashes(PyObject *self, PyObject *args)
{
    Py_buffer offsets, data;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*y*", &offsets, &data))
        return NULL;
    PyObject *out = NULL;
    if (offsets_check(&offsets, &data, &n) == 0) {
        out = PyBytes_FromStringAndSize(NULL, n * HASH_SIZE);
        if (out != NULL) {
            unsigned char *hashes = (unsigned char *)PyBytes_AS_STRING(out);
            const int32_t *off = (const int32_t *)offsets.buf;
            const unsigned char *bytes = (const unsigned char *)data.buf;
            static const unsigned char leaf_prefix = 0x00;
            Py_BEGIN_ALLOW_THREADS
            SHA256_CTX ctx;
            for (Py_ssize_t i = 0; i < n; i++) {
                SHA256_Init(&ctx);
                SHA256_Update(&ctx, &leaf_prefix, 1);
                SHA256_Update(&ctx, bytes + off[i], (size_t)(off[i + 1] - off[i]));
                SHA256_Final(hashes + i * HASH_SIZE, &ctx);
            }
            Py_END_ALLOW_THREADS
        }
    }
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    return out;
}

/* tree_root(hashes) -> bytes: the RFC 6962 tree hash over leaf hashes given back to
 * back, at least one. Level by level, an unpaired last node carried up unchanged,
 * which gives the recursive definition's root. */
static PyObject *tree_root(PyObject *self, PyObject *args)
{
    Py_buffer hashes;
    if (!PyArg_ParseTuple(args, "y*", &hashes))
        return NULL;
    if (hashes.len == 0 || hashes.len % HASH_SIZE != 0) {
        PyBuffer_Release(&hashes);
        PyErr_SetString(PyExc_ValueError, "leaf hashes must be one or more 32-byte values");
        return NULL;
    }
    Py_ssize_t n = hashes.len / HASH_SIZE;
    unsigned char *level = PyMem_RawMalloc((size_t)hashes.len);
    if (level == NULL) {
        PyBuffer_Release(&hashes);
        return PyErr_NoMemory();
    }
    memcpy(level, hashes.buf, (size_t)hashes.len);
    PyBuffer_Release(&hashes);
    Py_BEGIN_ALLOW_THREADS
    unsigned char node[1 + 2 * HASH_SIZE];
    node[0] = 0x01;
    while (n > 1) {
        Py_ssize_t pairs = n / 2;
        for (Py_ssize_t i = 0; i < pairs; i++) {
            memcpy(node + 1, level + 2 * i * HASH_SIZE, 2 * HASH_SIZE);
            SHA256(node, sizeof node, level + i * HASH_SIZE);
        }
        if (n % 2)
            memmove(level + pairs * HASH_SIZE, level + (n - 1) * HASH_SIZE, HASH_SIZE);
        n = pairs + n % 2;
    }
    Py_END_ALLOW_THREADS
    PyObject *out = PyBytes_FromStringAndSize((const char *)level, HASH_SIZE);
    PyMem_RawFree(level);
    return out;
}

static PyMethodDef rowhash_methods[] = {
    {"sha256_hex", sha256_hex, METH_VARARGS,
     "sha256_hex(offsets, data) -> bytes: hex SHA-256 of each value, 64 characters each."},
    {"leaf_hashes", leaf_hashes, METH_VARARGS,
     "leaf_hashes(offsets, data) -> bytes: RFC 6962 leaf hash of each value, 32 bytes each."},
    {"tree_root", tree_root, METH_VARARGS,
     "tree_root(hashes) -> bytes: RFC 6962 tree hash over 32-byte leaf hashes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rowhash_module = {
    PyModuleDef_HEAD_INIT, "_rowhash",
    "Spec section 6 hashing in C: per-value SHA-256, RFC 6962 leaf hashes and tree root.",
    -1, rowhash_methods,
};

PyMODINIT_FUNC PyInit__rowhash(void) { return PyModule_Create(&rowhash_module); }
