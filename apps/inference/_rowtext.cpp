/* Spec §6 canonical JSON texts of rows without a Python call per row or per value.
 *
 * apps/inference/rowhash.py hands over whole columns (NumPy and Arrow buffers); this
 * module writes each row's RFC 8785 text {"key":value,...} (keys already sorted and
 * encoded by the caller) and each leaf's text {"input_sha256":..,"output":..,"row":..},
 * as Arrow-style int32 offsets and data, which _rowhash.c then hashes. The GIL is
 * released while writing, so chunks are formatted on the cores the model leaves free.
 *
 * Numbers are RFC 8785 §3.2.2.3: ECMAScript's Number::toString, i.e. the shortest
 * digits that round-trip (the closest such when several are), laid out by the
 * ECMAScript rules: plain from 1e-6 up to 1e21, exponent form outside, -0 as 0. The
 * digits come from the C++17 standard library's std::to_chars (libstdc++ implements it
 * with Ryu), not from a formatter of our own; only the layout is written here, step by
 * step as ECMA-262 §6.1.6.1.20 gives it. Strings are escaped as RFC 8785 §3.2.2.2
 * (JSON.stringify) does. Tests compare every text with the rfc8785 package on
 * generated values, edge floats included. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

enum ColumnKind { FLOAT64 = 0, INT64 = 1, BOOL = 2, STRING = 3, NULLS = 4 };

struct Column {
    std::string key_prefix;        // `{"name":` for the first key, `,"name":` after
    int kind;
    Py_buffer values;              // float64 / int64 / uint8 (bool) / string data
    Py_buffer offsets;             // int32, n + 1 (strings only)
    Py_buffer nulls;               // uint8 per row, 1 = null (may be empty)
    bool has_values = false, has_offsets = false, has_nulls = false;
};

/* A growing text buffer written through a raw pointer: callers reserve the most a value
 * can take, then write without a check per character (the texts are most of the time). */
struct Texts {
    std::vector<int32_t> offsets;
    std::vector<char> data;
    size_t size = 0;
    bool overflow = false;

    char *reserve(size_t most) {
        if (size + most > data.size()) data.resize(std::max(data.size() * 2, size + most));
        return data.data() + size;
    }
    void wrote(char *end) { size = static_cast<size_t>(end - data.data()); }
    void end_row() {
        if (size > INT32_MAX) overflow = true;
        offsets.push_back(static_cast<int32_t>(size));
    }
};

// The most one number takes: -d.ddddddddddddddddde-308 (25), or 21 digits and a sign.
constexpr size_t NUMBER_MOST = 32;
const char HEX_DIGITS[] = "0123456789abcdef";

char *put(char *out, const char *text, size_t length) {
    std::memcpy(out, text, length);
    return out + length;
}

char *put_integer(char *out, int64_t value) {
    return std::to_chars(out, out + 24, value).ptr;
}

/* A finite double (never NaN or infinite: callers check) as ECMAScript's
 * Number::toString writes it. With the shortest digits d1..dk and n such that the
 * value is 0.d1..dk x 10^n: */
char *put_number(char *out, double value) {
    if (value == 0) {  // 0 and -0
        *out++ = '0';
        return out;
    }
    char scientific[NUMBER_MOST];  // [-]d[.ddd]e(+|-)xx, the shortest round-trip digits
    auto written = std::to_chars(scientific, scientific + sizeof scientific, value,
                                 std::chars_format::scientific);
    const char *p = scientific;
    if (*p == '-') *out++ = *p++;
    char digits[NUMBER_MOST];
    int k = 0;
    for (; *p != 'e'; p++)
        if (*p != '.') digits[k++] = *p;
    int exponent = 0;
    std::from_chars(p + (p[1] == '+' ? 2 : 1), written.ptr, exponent);
    int n = exponent + 1;
    if (k <= n && n <= 21) {  // an integer: the digits, then n - k zeros
        out = put(out, digits, static_cast<size_t>(k));
        std::memset(out, '0', static_cast<size_t>(n - k));
        return out + (n - k);
    }
    if (0 < n && n <= 21) {  // the point inside the digits
        out = put(out, digits, static_cast<size_t>(n));
        *out++ = '.';
        return put(out, digits + n, static_cast<size_t>(k - n));
    }
    if (-6 < n && n <= 0) {  // 0.000ddd
        *out++ = '0';
        *out++ = '.';
        std::memset(out, '0', static_cast<size_t>(-n));
        return put(out + (-n), digits, static_cast<size_t>(k));
    }
    *out++ = digits[0];  // d[.ddd]e(+|-)(n - 1)
    if (k > 1) {
        *out++ = '.';
        out = put(out, digits + 1, static_cast<size_t>(k - 1));
    }
    *out++ = 'e';
    *out++ = n - 1 < 0 ? '-' : '+';
    return put_integer(out, n - 1 < 0 ? 1 - n : n - 1);
}

/* At most six characters per byte (\u00xx) and the quotes. */
char *put_string(char *out, const char *text, size_t length) {
    *out++ = '"';
    for (size_t i = 0; i < length; i++) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') {
            *out++ = static_cast<char>(c);
            continue;
        }
        *out++ = '\\';
        switch (c) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\b': *out++ = 'b'; break;
        case '\f': *out++ = 'f'; break;
        case '\n': *out++ = 'n'; break;
        case '\r': *out++ = 'r'; break;
        case '\t': *out++ = 't'; break;
        default:
            out = put(out, "u00", 3);
            *out++ = HEX_DIGITS[c >> 4];
            *out++ = HEX_DIGITS[c & 15];
        }
    }
    *out++ = '"';
    return out;
}

void put_value(Texts &texts, const Column &column, Py_ssize_t row) {
    char *out = texts.reserve(column.key_prefix.size() + NUMBER_MOST);
    out = put(out, column.key_prefix.data(), column.key_prefix.size());
    bool null = column.kind == NULLS ||
                (column.has_nulls && static_cast<const uint8_t *>(column.nulls.buf)[row]);
    if (!null && column.kind == STRING) {
        const int32_t *offsets = static_cast<const int32_t *>(column.offsets.buf);
        size_t length = static_cast<size_t>(offsets[row + 1] - offsets[row]);
        texts.wrote(out);
        out = texts.reserve(6 * length + 2);
        out = put_string(out, static_cast<const char *>(column.values.buf) + offsets[row], length);
    } else if (!null && column.kind == FLOAT64) {
        double value = static_cast<const double *>(column.values.buf)[row];
        // NaN is a missing value, as pandas and Arrow write it.
        out = std::isnan(value) ? put(out, "null", 4) : put_number(out, value);
    } else if (!null && column.kind == INT64) {
        out = put_integer(out, static_cast<const int64_t *>(column.values.buf)[row]);
    } else if (!null && column.kind == BOOL) {
        out = static_cast<const uint8_t *>(column.values.buf)[row] ? put(out, "true", 4)
                                                                   : put(out, "false", 5);
    } else {
        out = put(out, "null", 4);
    }
    texts.wrote(out);
}

PyObject *texts_result(const Texts &texts) {
    if (texts.overflow) {
        PyErr_SetString(PyExc_ValueError, "a chunk's texts exceed 2 GiB: score in smaller chunks");
        return NULL;
    }
    return Py_BuildValue(
        "(y#y#)", reinterpret_cast<const char *>(texts.offsets.data()),
        static_cast<Py_ssize_t>(texts.offsets.size() * sizeof(int32_t)),
        texts.size ? texts.data.data() : "",  // y# gives None for a null pointer
        static_cast<Py_ssize_t>(texts.size));
}

void release(std::vector<Column> &columns) {
    for (Column &column : columns) {
        if (column.has_values) PyBuffer_Release(&column.values);
        if (column.has_offsets) PyBuffer_Release(&column.offsets);
        if (column.has_nulls) PyBuffer_Release(&column.nulls);
    }
}

/* Reads one (key_prefix, kind, values, offsets, nulls) tuple; checks every buffer
 * against the row count, so that nothing is read past an end. */
int read_column(PyObject *spec, Py_ssize_t rows, Column &column) {
    const char *prefix;
    Py_ssize_t prefix_length;
    PyObject *values, *offsets, *nulls;
    if (!PyArg_ParseTuple(spec, "y#iOOO", &prefix, &prefix_length, &column.kind, &values,
                          &offsets, &nulls))
        return -1;
    column.key_prefix.assign(prefix, static_cast<size_t>(prefix_length));
    if (column.kind < FLOAT64 || column.kind > NULLS) {
        PyErr_SetString(PyExc_ValueError, "unknown column kind");
        return -1;
    }
    if (values != Py_None) {
        if (PyObject_GetBuffer(values, &column.values, PyBUF_SIMPLE) < 0) return -1;
        column.has_values = true;
    }
    if (offsets != Py_None) {
        if (PyObject_GetBuffer(offsets, &column.offsets, PyBUF_SIMPLE) < 0) return -1;
        column.has_offsets = true;
    }
    if (nulls != Py_None) {
        if (PyObject_GetBuffer(nulls, &column.nulls, PyBUF_SIMPLE) < 0) return -1;
        column.has_nulls = true;
        if (column.nulls.len != rows) {
            PyErr_SetString(PyExc_ValueError, "the null mask must hold one byte per row");
            return -1;
        }
    }
    static const Py_ssize_t widths[] = {8, 8, 1};
    if (column.kind <= BOOL && (!column.has_values || column.values.len != rows * widths[column.kind])) {
        PyErr_SetString(PyExc_ValueError, "a column's values do not match the row count");
        return -1;
    }
    if (column.kind == STRING) {
        if (!column.has_values || !column.has_offsets ||
            column.offsets.len != (rows + 1) * static_cast<Py_ssize_t>(sizeof(int32_t))) {
            PyErr_SetString(PyExc_ValueError, "a string column needs n + 1 int32 offsets");
            return -1;
        }
        const int32_t *off = static_cast<const int32_t *>(column.offsets.buf);
        for (Py_ssize_t i = 0; i < rows; i++) {
            if (off[i] < 0 || off[i + 1] < off[i] || off[i + 1] > column.values.len) {
                PyErr_SetString(PyExc_ValueError, "a string column's offsets are out of range");
                return -1;
            }
        }
    }
    return 0;
}

/* row_texts(rows, columns) -> (offsets, data): each row's canonical JSON object. */
PyObject *row_texts(PyObject *, PyObject *args) {
    Py_ssize_t rows;
    PyObject *specs;
    if (!PyArg_ParseTuple(args, "nO!", &rows, &PyList_Type, &specs)) return NULL;
    std::vector<Column> columns(static_cast<size_t>(PyList_GET_SIZE(specs)));
    for (size_t j = 0; j < columns.size(); j++) {
        if (read_column(PyList_GET_ITEM(specs, j), rows, columns[j]) < 0) {
            release(columns);
            return NULL;
        }
    }
    Texts texts;
    Py_BEGIN_ALLOW_THREADS
    texts.offsets.reserve(static_cast<size_t>(rows) + 1);
    texts.offsets.push_back(0);
    for (Py_ssize_t row = 0; row < rows; row++) {
        if (columns.empty()) texts.wrote(put(texts.reserve(1), "{", 1));
        for (const Column &column : columns) put_value(texts, column, row);
        texts.wrote(put(texts.reserve(1), "}", 1));
        texts.end_row();
    }
    Py_END_ALLOW_THREADS
    release(columns);
    return texts_result(texts);
}

/* leaf_texts(first_row, digests_hex, outputs, width) -> (offsets, data), or None when
 * an output is NaN (the reference encoder decides those). `outputs` holds rows x width
 * float64 values; width 0 means one number per row, otherwise an array of `width`. */
PyObject *leaf_texts(PyObject *, PyObject *args) {
    long long first_row;
    Py_buffer digests, outputs;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "Ly*y*n", &first_row, &digests, &outputs, &width)) return NULL;
    Py_ssize_t rows = digests.len / 64, per_row = width ? width : 1;
    PyObject *result = NULL;
    if (digests.len % 64 || outputs.len != rows * per_row * 8 || width < 0) {
        PyErr_SetString(PyExc_ValueError, "digests and outputs do not match");
    } else {
        const char *hex = static_cast<const char *>(digests.buf);
        const double *values = static_cast<const double *>(outputs.buf);
        bool nan = false, infinite = false;
        Texts texts;
        Py_BEGIN_ALLOW_THREADS
        texts.offsets.reserve(static_cast<size_t>(rows) + 1);
        texts.offsets.push_back(0);
        for (Py_ssize_t row = 0; row < rows && !nan && !infinite; row++) {
            // {"input_sha256":"<64>","output":[n,...],"row":<n>}
            char *out = texts.reserve(100 + static_cast<size_t>(per_row) * (NUMBER_MOST + 1));
            out = put(out, "{\"input_sha256\":\"", 17);
            out = put(out, hex + row * 64, 64);
            out = put(out, "\",\"output\":", 11);
            if (width) *out++ = '[';
            for (Py_ssize_t k = 0; k < per_row && !nan && !infinite; k++) {
                double value = values[row * per_row + k];
                nan = std::isnan(value);
                infinite = std::isinf(value);
                if (k) *out++ = ',';
                if (!nan && !infinite) out = put_number(out, value);
            }
            if (width) *out++ = ']';
            out = put(out, ",\"row\":", 7);
            out = put_integer(out, first_row + row);
            *out++ = '}';
            texts.wrote(out);
            texts.end_row();
        }
        Py_END_ALLOW_THREADS
        if (infinite)
            PyErr_SetString(PyExc_ValueError, "infinite values cannot be put in JSON");
        else if (nan)
            result = Py_NewRef(Py_None);
        else
            result = texts_result(texts);
    }
    PyBuffer_Release(&digests);
    PyBuffer_Release(&outputs);
    return result;
}

PyMethodDef rowtext_methods[] = {
    {"row_texts", row_texts, METH_VARARGS,
     "row_texts(rows, columns) -> (offsets, data): each row's canonical JSON object."},
    {"leaf_texts", leaf_texts, METH_VARARGS,
     "leaf_texts(first_row, digests_hex, outputs, width) -> (offsets, data) or None."},
    {NULL, NULL, 0, NULL},
};

struct PyModuleDef rowtext_module = {
    PyModuleDef_HEAD_INIT, "_rowtext",
    "Spec section 6 canonical JSON texts of rows and leaves, from column buffers.",
    -1, rowtext_methods,
};

}  // namespace

PyMODINIT_FUNC PyInit__rowtext(void) { return PyModule_Create(&rowtext_module); }
