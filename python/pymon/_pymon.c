/*
 * pymon._pymon: the CPython binding of libpymon, through include/pymon.h only.
 *
 * Two types, kept thin; the Python API (chaining, Events, Command, watch(),
 * awatch()) is pymon/__init__.py:
 *   Watcher   owns a pymon_watcher and a pipe that wakes wait() when
 *             stop() is called from another thread, or a signal arrives
 *             (the pipe is given to signal.set_wakeup_fd()).
 *   Observer  a pymon_observer of a Watcher; holds its Python callback.
 *
 * The loop is driven from Python: dispatch() runs ready work with the GIL
 * held (batch callbacks are Python calls), wait() blocks in poll() on the
 * watcher's epoll descriptor with the GIL released and checks for signals
 * (Ctrl-C) when it wakes. An exception raised by a callback stops the
 * watcher and is raised again by dispatch().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "pymon.h"

int pymon_cli_main(int argc, char **argv); /* pymon/_cli.c */


static PyObject *Error; /* pymon.Error, an OSError */

/* Raises pymon.Error(errno, message) for a negative errno from the library. */
static PyObject *raise_error(int code, const pymon_error *err)
{
	const char *msg = err && err->message[0] ? err->message : strerror(-code);
	PyObject *exc = PyObject_CallFunction(Error, "is", -code, msg);
	if (exc) {
		PyErr_SetObject(Error, exc);
		Py_DECREF(exc);
	}
	return NULL;
}

/* ---- Watcher ------------------------------------------------------------- */

/* A Python callback of one observer. Owned by the watcher, not by the
 * Observer object: the library keeps the pointer as long as the watcher
 * lives, whether or not Python still holds the Observer. */
struct callback {
	struct callback *next;
	struct WatcherObject *watcher; /* borrowed: it owns this */
	PyObject *fn;
};

typedef struct WatcherObject {
	PyObject_HEAD
	pymon_watcher *w;
	int wakefd[2]; /* a pipe: stop() and Python's signal wakeup fd write to [1] */
	int busy;     /* inside start()/dispatch(): close() must wait */
	int starting; /* inside start(), GIL released: stop() is deferred */
	int stopped;  /* dispatch() returned 1: status() is valid */
	int pending;  /* 1: stop, 2: terminate, requested during start() */
	int stopping; /* stop()/terminate() called: no more callbacks */
	int pending_status;
	struct callback *callbacks;
	PyObject *exc_type, *exc_value, *exc_tb; /* raised by a callback */
} WatcherObject;

typedef struct {
	PyObject_HEAD
	WatcherObject *watcher;
	pymon_observer *o;
} ObserverObject;

static PyTypeObject WatcherType;
static PyTypeObject ObserverType;

static int watcher_check(WatcherObject *self)
{
	if (!self->w) {
		PyErr_SetString(PyExc_ValueError, "the watcher is closed");
		return -1;
	}
	return 0;
}

static PyObject *Watcher_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kw, ":Watcher", kwlist))
		return NULL;
	WatcherObject *self = (WatcherObject *)type->tp_alloc(type, 0);
	if (!self)
		return NULL;
	self->wakefd[0] = self->wakefd[1] = -1;
	pymon_error err = {0};
	self->w = pymon_watcher_new(&err);
	if (!self->w) {
		Py_DECREF(self);
		return raise_error(err.code ? err.code : -ENOMEM, &err);
	}
	if (pipe2(self->wakefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		Py_DECREF(self);
		return raise_error(-e, NULL);
	}
	return (PyObject *)self;
}

static int Watcher_traverse(WatcherObject *self, visitproc visit, void *arg)
{
	for (struct callback *c = self->callbacks; c; c = c->next)
		Py_VISIT(c->fn);
	Py_VISIT(self->exc_type);
	Py_VISIT(self->exc_value);
	Py_VISIT(self->exc_tb);
	return 0;
}

static int Watcher_clear(WatcherObject *self)
{
	/* The library may still call them (the watcher is not freed yet):
	 * they become no-ops, their Python functions are released. */
	for (struct callback *c = self->callbacks; c; c = c->next)
		Py_CLEAR(c->fn);
	Py_CLEAR(self->exc_type);
	Py_CLEAR(self->exc_value);
	Py_CLEAR(self->exc_tb);
	return 0;
}

static void watcher_close(WatcherObject *self)
{
	if (self->w) {
		pymon_watcher_free(self->w);
		self->w = NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (self->wakefd[i] >= 0) {
			close(self->wakefd[i]);
			self->wakefd[i] = -1;
		}
	}
	while (self->callbacks) {
		struct callback *c = self->callbacks;
		self->callbacks = c->next;
		Py_CLEAR(c->fn);
		PyMem_Free(c);
	}
}

static void Watcher_dealloc(WatcherObject *self)
{
	PyObject_GC_UnTrack(self);
	watcher_close(self);
	Watcher_clear(self);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The one place observers are created. */
static PyObject *Watcher_observer(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	pymon_error err = {0};
	pymon_observer *o = pymon_observer_new(self->w, &err);
	if (!o)
		return raise_error(err.code ? err.code : -ENOMEM, &err);
	ObserverObject *ob = PyObject_GC_New(ObserverObject, &ObserverType);
	if (!ob)
		return NULL;
	Py_INCREF(self);
	ob->watcher = self;
	ob->o = o;
	PyObject_GC_Track(ob);
	return (PyObject *)ob;
}

static void wake(WatcherObject *self)
{
	if (write(self->wakefd[1], "s", 1) < 0) {
		/* EAGAIN: the pipe is full, a wake is pending anyway. */
	}
}

/* stop()/terminate() asked for while start() ran without the GIL. */
static void apply_pending(WatcherObject *self)
{
	if (!self->pending || !self->w)
		return;
	if (self->pending == 2)
		pymon_watcher_terminate(self->w, self->pending_status);
	else
		pymon_watcher_stop(self->w, self->pending_status);
	self->pending = 0;
}

static PyObject *Watcher_start(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	pymon_error err = {0};
	int r;
	/* Scanning a large tree takes a while; no Python code runs in it. */
	self->busy++;
	self->starting = 1;
	Py_BEGIN_ALLOW_THREADS
	r = pymon_watcher_start(self->w, &err);
	Py_END_ALLOW_THREADS
	self->starting = 0;
	self->busy--;
	apply_pending(self);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

static PyObject *Watcher_dispatch(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	if (self->stopped && !self->exc_type)
		Py_RETURN_TRUE;
	pymon_error err = {0};
	apply_pending(self);
	self->busy++;
	int r = pymon_watcher_dispatch(self->w, &err);
	self->busy--;
	if (self->exc_type) {
		/* A callback raised: the watcher is stopping (with a graceful
		 * terminate, once every command tree is gone); then raise it. */
		if (r == 0)
			Py_RETURN_FALSE;
		if (r == 1)
			self->stopped = 1;
		PyErr_Restore(self->exc_type, self->exc_value, self->exc_tb);
		self->exc_type = self->exc_value = self->exc_tb = NULL;
		return NULL;
	}
	if (r < 0)
		return raise_error(r, &err);
	if (r == 1)
		self->stopped = 1;
	return PyBool_FromLong(r == 1);
}

/* Waits until the watcher has work, stop() is called, or the timeout (in
 * seconds, None for no limit) passes; the GIL is released meanwhile.
 * Returns True when the watcher's descriptor is readable. Raises whatever a
 * signal handler raised (KeyboardInterrupt). */
static PyObject *Watcher_wait(WatcherObject *self, PyObject *args)
{
	PyObject *timeout = Py_None;
	if (!PyArg_ParseTuple(args, "|O:wait", &timeout))
		return NULL;
	if (watcher_check(self) < 0)
		return NULL;
	int ms = -1;
	if (timeout != Py_None) {
		double t = PyFloat_AsDouble(timeout);
		if (t == -1.0 && PyErr_Occurred())
			return NULL;
		if (!(t >= 0) || t > 86400.0 * 24) {
			PyErr_SetString(PyExc_ValueError, "timeout must be between 0 and 24 days (seconds)");
			return NULL;
		}
		ms = (int)ceil(t * 1000.0); /* rounded up: no busy loop on small waits */
	}
	struct pollfd p[2] = {
		{.fd = pymon_watcher_fd(self->w), .events = POLLIN},
		{.fd = self->wakefd[0], .events = POLLIN},
	};
	int n, e;
	Py_BEGIN_ALLOW_THREADS
	n = poll(p, 2, ms);
	e = errno;
	Py_END_ALLOW_THREADS
	if (n < 0 && e != EINTR)
		return raise_error(-e, NULL);
	if (n > 0 && (p[1].revents & POLLIN)) {
		char buf[256];
		while (read(self->wakefd[0], buf, sizeof buf) > 0) {
			/* drained: stop() and signal bytes only wake us */
		}
	}
	if (PyErr_CheckSignals() < 0)
		return NULL;
	return PyBool_FromLong(n > 0 && (p[0].revents & POLLIN));
}

static PyObject *Watcher_stop(WatcherObject *self, PyObject *args)
{
	int status = 0;
	if (!PyArg_ParseTuple(args, "|i:stop", &status))
		return NULL;
	if (watcher_check(self) < 0)
		return NULL;
	self->stopping = 1;
	if (self->starting) {
		self->pending = self->pending > 1 ? self->pending : 1;
		self->pending_status = status;
	} else {
		pymon_watcher_stop(self->w, status);
	}
	wake(self);
	Py_RETURN_NONE;
}

static PyObject *Watcher_terminate(WatcherObject *self, PyObject *args)
{
	int status = 0;
	if (!PyArg_ParseTuple(args, "i:terminate", &status))
		return NULL;
	if (watcher_check(self) < 0)
		return NULL;
	self->stopping = 1;
	if (self->starting) {
		self->pending = 2;
		self->pending_status = status;
	} else {
		pymon_watcher_terminate(self->w, status);
	}
	wake(self);
	Py_RETURN_NONE;
}

/* The status given to stop() (or by the library: a `once` command's exit
 * status, 128 + signal). Valid once dispatch() returned True. */
static PyObject *Watcher_status(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	if (!self->stopped) {
		PyErr_SetString(PyExc_RuntimeError, "the watcher has not stopped");
		return NULL;
	}
	pymon_error err = {0};
	/* Returns at once: the loop is stopped. */
	int r = pymon_observe(self->w, &err);
	if (r < 0)
		return raise_error(r, &err);
	return PyLong_FromLong(r);
}

static PyObject *Watcher_fileno(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	return PyLong_FromLong(pymon_watcher_fd(self->w));
}

/* The write end of the wake pipe, for signal.set_wakeup_fd(): a signal
 * caught on any thread then wakes wait(). */
static PyObject *Watcher_wakeup_fd(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	return PyLong_FromLong(self->wakefd[1]);
}

static PyObject *Watcher_watch_count(WatcherObject *self, PyObject *unused)
{
	if (watcher_check(self) < 0)
		return NULL;
	return PyLong_FromSize_t(pymon_watcher_watch_count(self->w));
}

/* poll(mode, interval_ms, flags): pymon_watcher_poll(), before start(). */
static PyObject *Watcher_poll(WatcherObject *self, PyObject *args)
{
	int mode;
	unsigned interval_ms, flags;
	if (!PyArg_ParseTuple(args, "iII", &mode, &interval_ms, &flags))
		return NULL;
	if (watcher_check(self) < 0)
		return NULL;
	pymon_error err = {0};
	int r = pymon_watcher_poll(self->w, (enum pymon_poll)mode, interval_ms, flags, &err);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

static PyObject *Watcher_close_m(WatcherObject *self, PyObject *unused)
{
	if (self->busy) {
		PyErr_SetString(PyExc_RuntimeError, "cannot close a watcher while it is dispatching");
		return NULL;
	}
	watcher_close(self);
	Py_RETURN_NONE;
}

static PyObject *Watcher_get_closed(WatcherObject *self, void *unused)
{
	return PyBool_FromLong(self->w == NULL);
}

static PyMethodDef Watcher_methods[] = {
	{"observer", (PyCFunction)Watcher_observer, METH_NOARGS, "observer() -> Observer: a new observer of this watcher."},
	{"start", (PyCFunction)Watcher_start, METH_NOARGS, "start(): scan every root and add the watches (GIL released)."},
	{"dispatch", (PyCFunction)Watcher_dispatch, METH_NOARGS,
	 "dispatch() -> bool: handle ready work without blocking; True once stopped."},
	{"wait", (PyCFunction)Watcher_wait, METH_VARARGS,
	 "wait(timeout=None) -> bool: block (GIL released) until there is work or stop()."},
	{"stop", (PyCFunction)Watcher_stop, METH_VARARGS, "stop(status=0): make the loop stop with status."},
	{"terminate", (PyCFunction)Watcher_terminate, METH_VARARGS,
	 "terminate(status): stop every command tree gracefully, then stop; a second call kills."},
	{"status", (PyCFunction)Watcher_status, METH_NOARGS, "status() -> int: the stop status."},
	{"fileno", (PyCFunction)Watcher_fileno, METH_NOARGS, "fileno() -> int: the epoll descriptor."},
	{"wakeup_fd", (PyCFunction)Watcher_wakeup_fd, METH_NOARGS,
	 "wakeup_fd() -> int: a descriptor for signal.set_wakeup_fd() that wakes wait()."},
	{"watch_count", (PyCFunction)Watcher_watch_count, METH_NOARGS, "watch_count() -> int: directories watched."},
	{"poll", (PyCFunction)Watcher_poll, METH_VARARGS,
	 "poll(mode, interval_ms, flags): POLL_AUTO/ALWAYS/NEVER, 0 for the default interval, POLL_ON_LIMIT."},
	{"close", (PyCFunction)Watcher_close_m, METH_NOARGS, "close(): stop everything and free the watcher."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Watcher_getset[] = {
	{"closed", (getter)Watcher_get_closed, NULL, "True once close() was called.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject WatcherType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "pymon._pymon.Watcher",
	.tp_basicsize = sizeof(WatcherObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The low-level watcher: one inotify instance and one epoll loop.",
	.tp_new = Watcher_new,
	.tp_dealloc = (destructor)Watcher_dealloc,
	.tp_traverse = (traverseproc)Watcher_traverse,
	.tp_clear = (inquiry)Watcher_clear,
	.tp_methods = Watcher_methods,
	.tp_getset = Watcher_getset,
};

/* ---- Observer ------------------------------------------------------------ */

static int observer_check(ObserverObject *self)
{
	return watcher_check(self->watcher);
}

static int Observer_traverse(ObserverObject *self, visitproc visit, void *arg)
{
	Py_VISIT(self->watcher);
	return 0;
}

static int Observer_clear(ObserverObject *self)
{
	Py_CLEAR(self->watcher);
	return 0;
}

static void Observer_dealloc(ObserverObject *self)
{
	PyObject_GC_UnTrack(self);
	Observer_clear(self);
	PyObject_GC_Del(self);
}

static PyObject *Observer_add(ObserverObject *self, PyObject *arg)
{
	if (observer_check(self) < 0)
		return NULL;
	PyObject *b = NULL;
	if (!PyUnicode_FSConverter(arg, &b))
		return NULL;
	pymon_error err = {0};
	int r = pymon_observer_add(self->o, PyBytes_AS_STRING(b), &err);
	Py_DECREF(b);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

static PyObject *Observer_ignore(ObserverObject *self, PyObject *arg)
{
	if (observer_check(self) < 0)
		return NULL;
	PyObject *b = NULL;
	if (!PyUnicode_FSConverter(arg, &b))
		return NULL;
	pymon_error err = {0};
	int r = pymon_observer_ignore(self->o, PyBytes_AS_STRING(b), &err);
	Py_DECREF(b);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

static PyObject *Observer_ext(ObserverObject *self, PyObject *args)
{
	const char *list;
	if (!PyArg_ParseTuple(args, "s:ext", &list))
		return NULL;
	if (observer_check(self) < 0)
		return NULL;
	pymon_error err = {0};
	int r = pymon_observer_ext(self->o, list, &err);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

/* on(), delay() and flags(): one unsigned for a setter that cannot fail. */
static PyObject *set_unsigned(ObserverObject *self, PyObject *args, const char *format,
                              void (*set)(pymon_observer *, unsigned))
{
	unsigned value;
	if (!PyArg_ParseTuple(args, format, &value) || observer_check(self) < 0)
		return NULL;
	set(self->o, value);
	Py_RETURN_NONE;
}

static PyObject *Observer_on(ObserverObject *self, PyObject *args)
{
	return set_unsigned(self, args, "I:on", pymon_observer_on);
}

static PyObject *Observer_delay(ObserverObject *self, PyObject *args)
{
	return set_unsigned(self, args, "I:delay", pymon_observer_delay);
}

static PyObject *Observer_flags(ObserverObject *self, PyObject *args)
{
	return set_unsigned(self, args, "I:flags", pymon_observer_flags);
}

static PyObject *Observer_batch_limit(ObserverObject *self, PyObject *args)
{
	Py_ssize_t n;
	if (!PyArg_ParseTuple(args, "n:batch_limit", &n))
		return NULL;
	if (n < 1) {
		PyErr_SetString(PyExc_ValueError, "batch_limit must be at least 1");
		return NULL;
	}
	if (observer_check(self) < 0)
		return NULL;
	pymon_observer_batch_limit(self->o, (size_t)n);
	Py_RETURN_NONE;
}

static PyObject *str_or_none(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_DecodeFSDefault(s);
}

/* fn(list of (kind, path, from, is_dir), dropped) per debounced batch. */
static void call_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	struct callback *cb = ud;
	WatcherObject *wo = cb->watcher;
	if (!cb->fn || wo->exc_type || wo->stopping)
		return; /* cleared by the GC, or stopping (after an exception) */
	PyObject *list = PyList_New((Py_ssize_t)b->count), *r = NULL;
	for (size_t i = 0; list && i < b->count; i++) {
		const pymon_event *e = &b->events[i];
		PyObject *t = Py_BuildValue("(IO&O&N)", e->kind, str_or_none, e->path, str_or_none, e->from,
					    PyBool_FromLong(e->is_dir));
		if (!t) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	if (list) {
		r = PyObject_CallFunction(cb->fn, "On", list, (Py_ssize_t)b->dropped);
		Py_DECREF(list);
	}
	if (r) {
		Py_DECREF(r);
		return;
	}
	PyErr_Fetch(&wo->exc_type, &wo->exc_value, &wo->exc_tb);
	pymon_watcher_terminate(wo->w, 1);
}

static PyObject *Observer_callback(ObserverObject *self, PyObject *fn)
{
	if (!PyCallable_Check(fn)) {
		PyErr_SetString(PyExc_TypeError, "callback must be callable");
		return NULL;
	}
	if (observer_check(self) < 0)
		return NULL;
	struct callback *c = PyMem_Calloc(1, sizeof *c);
	if (!c)
		return PyErr_NoMemory();
	pymon_error err = {0};
	int r = pymon_observer_callback(self->o, call_batch, c, &err);
	if (r < 0) {
		PyMem_Free(c);
		return raise_error(r, &err);
	}
	Py_INCREF(fn);
	c->fn = fn;
	c->watcher = self->watcher;
	c->next = self->watcher->callbacks;
	self->watcher->callbacks = c;
	Py_RETURN_NONE;
}

/* A NULL-terminated argv of file-system-encoded bytes; *keep owns them. */
static char **make_argv(PyObject *seq, PyObject **keep)
{
	PyObject *fast = PySequence_Fast(seq, "argv must be a sequence of str or os.PathLike");
	if (!fast)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
	if (n == 0) {
		Py_DECREF(fast);
		PyErr_SetString(PyExc_ValueError, "argv must not be empty");
		return NULL;
	}
	*keep = PyList_New(n);
	char **argv = PyMem_Calloc((size_t)n + 1, sizeof *argv);
	if (!*keep || !argv)
		goto fail;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *b = NULL;
		if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &b))
			goto fail;
		PyList_SET_ITEM(*keep, i, b);
		argv[i] = PyBytes_AS_STRING(b);
	}
	Py_DECREF(fast);
	return argv;
fail:
	Py_DECREF(fast);
	Py_CLEAR(*keep);
	PyMem_Free(argv);
	if (!PyErr_Occurred())
		PyErr_NoMemory();
	return NULL;
}

static PyObject *Observer_run(ObserverObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"command", "signal", "stop_timeout_ms", "on_busy", "flags", NULL};
	PyObject *cmd;
	int sig = 0, busy = PYMON_BUSY_RESTART;
	unsigned timeout = 0, flags = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|iIiI:run", kwlist, &cmd, &sig, &timeout, &busy, &flags))
		return NULL;
	if (busy < PYMON_BUSY_RESTART || busy > PYMON_BUSY_SIGNAL) {
		PyErr_SetString(PyExc_ValueError, "on_busy out of range");
		return NULL;
	}
	if (observer_check(self) < 0)
		return NULL;
	pymon_command c = {.size = sizeof(pymon_command), .stop_signal = sig, .stop_timeout_ms = timeout, .on_busy = busy, .flags = flags};
	PyObject *keep = NULL;
	char **argv = NULL;
	if (PyUnicode_Check(cmd)) {
		if (!PyUnicode_FSConverter(cmd, &keep))
			return NULL;
		c.shell = PyBytes_AS_STRING(keep);
	} else {
		if (!(argv = make_argv(cmd, &keep)))
			return NULL;
		c.argv = argv;
	}
	pymon_error err = {0};
	int r = pymon_observer_run(self->o, &c, &err);
	PyMem_Free(argv);
	Py_DECREF(keep);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

static PyObject *Observer_each(ObserverObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"argv", "jobs", "flags", NULL};
	PyObject *seq;
	unsigned jobs = 1, flags = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|II:each", kwlist, &seq, &jobs, &flags))
		return NULL;
	if (observer_check(self) < 0)
		return NULL;
	if (PyUnicode_Check(seq) || PyBytes_Check(seq)) {
		PyErr_SetString(PyExc_TypeError, "each() takes a list of arguments, not a string");
		return NULL;
	}
	PyObject *keep = NULL;
	char **argv = make_argv(seq, &keep);
	if (!argv)
		return NULL;
	pymon_each spec = {.size = sizeof(pymon_each), .argv = argv, .jobs = jobs, .flags = flags};
	pymon_error err = {0};
	int r = pymon_observer_each(self->o, &spec, &err);
	PyMem_Free(argv);
	Py_DECREF(keep);
	if (r < 0)
		return raise_error(r, &err);
	Py_RETURN_NONE;
}

static PyObject *Observer_restart(ObserverObject *self, PyObject *unused)
{
	if (observer_check(self) < 0)
		return NULL;
	int r = pymon_observer_restart(self->o);
	if (r < 0)
		return raise_error(r, NULL);
	Py_RETURN_NONE;
}

static PyObject *Observer_explain(ObserverObject *self, PyObject *args)
{
	PyObject *path;
	int is_dir = 0;
	if (!PyArg_ParseTuple(args, "O&|p:explain", PyUnicode_FSConverter, &path, &is_dir))
		return NULL;
	if (observer_check(self) < 0) {
		Py_DECREF(path);
		return NULL;
	}
	char buf[1024];
	int r = pymon_observer_explain(self->o, PyBytes_AS_STRING(path), is_dir, buf, sizeof buf);
	Py_DECREF(path);
	return Py_BuildValue("(Ns)", PyBool_FromLong(r == 1), buf);
}

static PyMethodDef Observer_methods[] = {
	{"add", (PyCFunction)Observer_add, METH_O, "add(path): a root, file or directory."},
	{"ignore", (PyCFunction)Observer_ignore, METH_O, "ignore(pattern): a gitignore-syntax pattern."},
	{"ext", (PyCFunction)Observer_ext, METH_VARARGS, "ext(list): only these extensions (\"py,html\")."},
	{"on", (PyCFunction)Observer_on, METH_VARARGS, "on(kinds): the event kinds that make a batch."},
	{"delay", (PyCFunction)Observer_delay, METH_VARARGS, "delay(ms): the debounce delay in milliseconds."},
	{"flags", (PyCFunction)Observer_flags, METH_VARARGS, "flags(bits): NO_DEFAULT_IGNORE etc."},
	{"batch_limit", (PyCFunction)Observer_batch_limit, METH_VARARGS, "batch_limit(n): paths per batch."},
	{"callback", (PyCFunction)Observer_callback, METH_O,
	 "callback(fn): fn(events, dropped) per batch; events are (kind, path, from, is_dir) tuples."},
	{"run", (PyCFunction)(void (*)(void))Observer_run, METH_VARARGS | METH_KEYWORDS,
	 "run(command, signal=0, stop_timeout_ms=0, on_busy=0, flags=0): a supervised command."},
	{"each", (PyCFunction)(void (*)(void))Observer_each, METH_VARARGS | METH_KEYWORDS,
	 "each(argv, jobs=1, flags=0): a command per changed path, {} replaced by the path."},
	{"restart", (PyCFunction)Observer_restart, METH_NOARGS, "restart(): restart the command now."},
	{"explain", (PyCFunction)Observer_explain, METH_VARARGS,
	 "explain(path, is_dir=False) -> (ignored, reason)."},
	{NULL, NULL, 0, NULL},
};

static PyTypeObject ObserverType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "pymon._pymon.Observer",
	.tp_basicsize = sizeof(ObserverObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The low-level observer; made by Watcher.observer().",
	.tp_dealloc = (destructor)Observer_dealloc,
	.tp_traverse = (traverseproc)Observer_traverse,
	.tp_clear = (inquiry)Observer_clear,
	.tp_methods = Observer_methods,
};

/* ---- the command-line tool ---------------------------------------------- */

static PyObject *cli_main(PyObject *mod, PyObject *seq)
{
	PyObject *keep = NULL;
	char **argv = make_argv(seq, &keep);
	if (!argv)
		return NULL;
	int argc = (int)PyList_GET_SIZE(keep);
	int status;
	fflush(stdout);
	Py_BEGIN_ALLOW_THREADS
	status = pymon_cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	Py_END_ALLOW_THREADS
	PyMem_Free(argv);
	Py_DECREF(keep);
	return PyLong_FromLong(status);
}

static PyMethodDef module_methods[] = {
	{"cli_main", (PyCFunction)cli_main, METH_O,
	 "cli_main(argv) -> int: run the py-mon command-line tool in this process."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "pymon._pymon",
	.m_doc = "The C binding of libpymon; use the pymon package.",
	.m_size = -1,
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__pymon(void)
{
	if (PyType_Ready(&WatcherType) < 0 || PyType_Ready(&ObserverType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&module);
	if (!m)
		return NULL;
	Error = PyErr_NewExceptionWithDoc(
		"pymon.Error",
		"A libpymon error: an OSError with .errno and the library's message\n"
		"(e.g. the inotify limit to raise, with its sysctl).",
		PyExc_OSError, NULL);
	if (!Error)
		goto fail;
	Py_INCREF(Error);
	if (PyModule_AddObject(m, "Error", Error) < 0)
		goto fail;
	Py_INCREF(&WatcherType);
	if (PyModule_AddObject(m, "Watcher", (PyObject *)&WatcherType) < 0)
		goto fail;
	Py_INCREF(&ObserverType);
	if (PyModule_AddObject(m, "Observer", (PyObject *)&ObserverType) < 0)
		goto fail;
	struct {
		const char *name;
		long value;
	} consts[] = {
		{"CREATE", PYMON_CREATE}, {"DELETE", PYMON_DELETE}, {"MODIFY", PYMON_MODIFY},
		{"MOVE", PYMON_MOVE}, {"ALL", PYMON_ALL}, {"RESCAN", PYMON_RESCAN},
		{"BUSY_RESTART", PYMON_BUSY_RESTART}, {"BUSY_QUEUE", PYMON_BUSY_QUEUE},
		{"BUSY_IGNORE", PYMON_BUSY_IGNORE}, {"BUSY_SIGNAL", PYMON_BUSY_SIGNAL},
		{"RUN_POSTPONE", PYMON_RUN_POSTPONE}, {"RUN_ONCE", PYMON_RUN_ONCE},
		{"RUN_NO_TTY", PYMON_RUN_NO_TTY}, {"NO_DEFAULT_IGNORE", PYMON_NO_DEFAULT_IGNORE},
		{"NO_VCS_IGNORE", PYMON_NO_VCS_IGNORE}, {"NO_GIT_LOCK_WAIT", PYMON_NO_GIT_LOCK_WAIT},
		{"POLL_AUTO", PYMON_POLL_AUTO}, {"POLL_ALWAYS", PYMON_POLL_ALWAYS}, {"POLL_NEVER", PYMON_POLL_NEVER},
		{"POLL_ON_LIMIT", PYMON_POLL_ON_LIMIT},
	};
	for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
		if (PyModule_AddIntConstant(m, consts[i].name, consts[i].value) < 0)
			goto fail;
	if (PyModule_AddStringConstant(m, "VERSION", PYMON_VERSION) < 0)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
