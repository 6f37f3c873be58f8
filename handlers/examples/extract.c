/*
 * extract.c: an example winch handler module for the Rails job ExtractJob. It reads a CSV
 * file, writes the chosen columns of every row as JSON lines, and enqueues ExtractSummaryJob
 * with the row count and per-column sum, min and max. Copy it with its Makefile (README.md).
 *
 * ExtractJob.perform_later(csv_path, columns, output_path), for example
 * ExtractJob.perform_later("/data/in.csv", ["id", "amount"], "/data/out.jsonl"):
 *
 *   - the CSV has a header row; fields may be quoted ("a, b", "say ""hi""", line breaks
 *     inside quotes); lines end in LF or CRLF; blank lines are skipped; every row must have
 *     as many fields as the header;
 *   - output_path gets one JSON object per row, {"id":"1","amount":"12.50"}, values as the
 *     strings the CSV holds, keys in the order of `columns`. It is written to a temporary
 *     file beside output_path, synced, then renamed: readers never see half a file;
 *   - then it enqueues ExtractSummaryJob on queue "reports" with args
 *     [jid, output_path, rows, {"amount": {"sum": s, "min": a, "max": b}}], naming each
 *     column whose every value is a number (JSON numbers, as floats).
 *
 * Failures, as the Ruby job would raise them: a file that cannot be opened or read is
 * Errno::ENOENT, Errno::EACCES, ... with Ruby's message; a column the header lacks is
 * KeyError; bad arguments are ArgumentError; a malformed CSV is CSV::MalformedCSVError.
 * Retries follow the payload's `retry`, or 3 when it has none, 10, 20 and 30 s apart (plus
 * Sidekiq's jitter).
 *
 * winch runs this on several handler threads at once: everything here lives on the stack or
 * is allocated per job, so it is thread-safe.
 */
#define _POSIX_C_SOURCE 200809L /* fsync, mkstemp, fdopen, strndup, O_DIRECTORY */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <winch/winch.h>

#define EXTRACT_MAX_COLUMNS 1000	  /* columns one job may ask for */
#define EXTRACT_CHECK_EVERY 10000	  /* rows between two winch_job_stopping() checks */
#define CSV_MAX_RECORD (16 * 1024 * 1024) /* bytes in one row: a bound for a broken file */
#define CSV_MAX_FIELDS 10000		  /* fields in one row */

/* JSON as Ruby's JSON.generate writes it: compact, and "/" not escaped. */
#define EXTRACT_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ------------------------------------------------------------------------------------- */
/* Memory */

/* realloc that stops the process when memory runs out, as winch itself does. */
static void *extract_realloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (p == NULL) {
		fputs("extract: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* ------------------------------------------------------------------------------------- */
/* Reading CSV */

/* One row: its fields are stored one after the other in buf, each ended by a '\0'. */
struct csv_record {
	char *buf;	/* owned */
	size_t len;	/* bytes used in buf */
	size_t cap;	/* bytes allocated */
	size_t *starts; /* owned: where each field starts in buf */
	size_t n;	/* fields */
	size_t cap_starts;
};

/* A CSV file being read, one record at a time. */
struct csv {
	FILE *f;	 /* owned; NULL when not open */
	long line;	 /* line number of the next character, from 1 */
	long row_line;	 /* line number where the last row read starts */
	int read_errno;	 /* nonzero once a read failed */
	char error[160]; /* why the file is malformed, after CSV_MALFORMED */
};

/* What csv_read found. */
enum csv_status {
	CSV_RECORD,	/* the record holds the next row */
	CSV_END,	/* no more rows */
	CSV_MALFORMED,	/* not valid CSV: csv.error says where and why */
	CSV_READ_ERROR, /* the file could not be read: csv.read_errno says why */
};

/* Returned instead of a character by the field readers when the CSV is malformed. */
#define CSV_BAD (-2)

static void record_release(struct csv_record *r)
{
	free(r->buf);
	free(r->starts);
	memset(r, 0, sizeof(*r));
}

/* Appends one byte to the current field; -1 when the row would pass CSV_MAX_RECORD. */
static int record_addc(struct csv_record *r, int ch)
{
	if (r->len == r->cap) {
		if (r->cap >= CSV_MAX_RECORD)
			return -1;
		r->cap = r->cap ? r->cap * 2 : 256;
		r->buf = extract_realloc(r->buf, r->cap);
	}
	r->buf[r->len++] = (char)ch;
	return 0;
}

/* Starts a new field; -1 when the row would pass CSV_MAX_FIELDS. */
static int record_start_field(struct csv_record *r)
{
	if (r->n == CSV_MAX_FIELDS)
		return -1;
	if (r->n == r->cap_starts) {
		r->cap_starts = r->cap_starts ? r->cap_starts * 2 : 16;
		r->starts = extract_realloc(r->starts, r->cap_starts * sizeof(*r->starts));
	}
	r->starts[r->n++] = r->len;
	return 0;
}

/* Ends the current field with a '\0'; -1 when the row would pass CSV_MAX_RECORD. */
static int record_end_field(struct csv_record *r)
{
	return record_addc(r, '\0');
}

/* Field i, '\0'-terminated; it may hold '\0' bytes of its own: see record_field_len. */
static const char *record_field(const struct csv_record *r, size_t i)
{
	return r->buf + r->starts[i];
}

static size_t record_field_len(const struct csv_record *r, size_t i)
{
	size_t end = i + 1 < r->n ? r->starts[i + 1] : r->len;

	return end - r->starts[i] - 1; /* without the '\0' that ends it */
}

/* Opens path for reading. Returns 0, or -errno. */
static int csv_open(struct csv *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->f = fopen(path, "r");
	if (c->f == NULL)
		return -errno;
	c->line = 1;
	return 0;
}

static void csv_close(struct csv *c)
{
	if (c->f)
		fclose(c->f);
	c->f = NULL;
}

/* The next byte, or EOF at the end of the file or when the read failed (see read_errno). */
static int csv_getc(struct csv *c)
{
	int ch = getc(c->f);

	if (ch == EOF && ferror(c->f) && c->read_errno == 0)
		c->read_errno = errno ? errno : EIO;
	if (ch == '\n')
		c->line++;
	return ch;
}

/* Records why the CSV is malformed; returns CSV_BAD. */
static int csv_malformed(struct csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int csv_malformed(struct csv *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return CSV_BAD;
}

/*
 * ch has just ended a field. It must be a comma, a line end or the end of the file. A CR
 * must be followed by LF: CRLF is one line end. Returns ',', '\n' or EOF, or CSV_BAD.
 */
static int csv_field_end(struct csv *c, int ch)
{
	if (ch == '\r') {
		ch = csv_getc(c);
		if (ch != '\n')
			return csv_malformed(c, "a lone carriage return in line %ld", c->line);
	}
	if (ch == ',' || ch == '\n' || ch == EOF)
		return ch;
	return csv_malformed(c, "text after the closing quote of a field in line %ld", c->line);
}

/* Reads an unquoted field whose first byte is ch. Returns what ended it (csv_field_end). */
static int csv_read_unquoted(struct csv *c, struct csv_record *r, int ch)
{
	while (ch != ',' && ch != '\r' && ch != '\n' && ch != EOF) {
		if (ch == '"')
			return csv_malformed(c, "a quote inside an unquoted field in line %ld",
					     c->line);
		if (record_addc(r, ch) < 0)
			return csv_malformed(c, "a row longer than %d bytes in line %ld",
					     CSV_MAX_RECORD, c->line);
		ch = csv_getc(c);
	}
	return csv_field_end(c, ch);
}

/*
 * Reads a quoted field; its opening quote has been read. Inside it, "" is one quote, and
 * commas and line breaks (LF or CRLF, kept as they are) are text. Returns what ended it.
 */
static int csv_read_quoted(struct csv *c, struct csv_record *r)
{
	long first_line = c->line;
	int ch;

	for (;;) {
		ch = csv_getc(c);
		if (ch == EOF)
			return csv_malformed(c, "unclosed quoted field from line %ld", first_line);
		if (ch == '"') {
			ch = csv_getc(c);
			if (ch != '"')
				return csv_field_end(c, ch); /* that was the closing quote */
		}
		if (record_addc(r, ch) < 0)
			return csv_malformed(c, "a row longer than %d bytes in line %ld",
					     CSV_MAX_RECORD, c->line);
	}
}

/* Skips empty lines; returns the first byte of the next row, EOF or CSV_BAD. */
static int csv_skip_blank_lines(struct csv *c)
{
	int ch = csv_getc(c);

	for (;;) {
		if (ch == '\r') {
			ch = csv_getc(c);
			if (ch != '\n')
				return csv_malformed(c, "a lone carriage return in line %ld",
						     c->line);
		}
		if (ch != '\n')
			return ch;
		ch = csv_getc(c);
	}
}

/* Reads the next row into r (whose previous contents are dropped). */
static enum csv_status csv_read(struct csv *c, struct csv_record *r)
{
	int ch;

	r->len = 0;
	r->n = 0;
	ch = csv_skip_blank_lines(c);
	if (ch == EOF && c->read_errno == 0)
		return CSV_END;
	c->row_line = c->line;
	while (ch != CSV_BAD && c->read_errno == 0) {
		if (record_start_field(r) < 0) {
			ch = csv_malformed(c, "more than %d fields in line %ld", CSV_MAX_FIELDS,
					   c->line);
			break;
		}
		if (ch == '"')
			ch = csv_read_quoted(c, r);
		else
			ch = csv_read_unquoted(c, r, ch);
		if (ch == CSV_BAD)
			break;
		if (record_end_field(r) < 0) {
			ch = csv_malformed(c, "a row longer than %d bytes in line %ld",
					   CSV_MAX_RECORD, c->line);
			break;
		}
		if (ch != ',')
			break; /* a line end or the end of the file: the row is complete */
		ch = csv_getc(c);
	}
	if (c->read_errno)
		return CSV_READ_ERROR; /* checked first: a failed read also looks like EOF */
	if (ch == CSV_BAD)
		return CSV_MALFORMED;
	return CSV_RECORD;
}

/* ------------------------------------------------------------------------------------- */
/* Writing the output file atomically */

struct output {
	const char *path;      /* borrowed: the file to create or replace */
	char *tmp_path;	       /* owned: "<path>.tmp-XXXXXX", in the same directory */
	FILE *f;	       /* owned; NULL once closed */
	int tmp_exists;	       /* tmp_path is on disk and must be removed if we give up */
	const char *failed_op; /* after a failure: the step, named as in Ruby's messages */
};

/* Creates the temporary file beside path. Returns 0, or -errno. */
static int output_open(struct output *o, const char *path)
{
	size_t size = strlen(path) + sizeof(".tmp-XXXXXX");
	int fd, err;

	o->path = path;
	o->tmp_path = extract_realloc(NULL, size);
	snprintf(o->tmp_path, size, "%s.tmp-XXXXXX", path);
	o->failed_op = "rb_sysopen";
	fd = mkstemp(o->tmp_path);
	if (fd < 0)
		return -errno;
	o->tmp_exists = 1;
	/* mkstemp creates the file readable by its owner only: let others read the output. */
	if (fchmod(fd, 0644) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	o->f = fdopen(fd, "w");
	if (o->f == NULL) {
		err = errno;
		close(fd);
		return -err;
	}
	return 0;
}

/* Syncs the directory holding path, so that a rename in it survives a power cut. */
static void output_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL)
		dir = strndup(".", 1);
	else if (slash == path)
		dir = strndup("/", 1);
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd); /* best effort: the data itself is already synced */
		close(fd);
	}
	free(dir);
}

/* Flushes and syncs the temporary file, then renames it to path. Returns 0, or -errno. */
static int output_commit(struct output *o)
{
	FILE *f = o->f;
	int err;

	o->f = NULL;
	o->failed_op = "io_write";
	if (fflush(f) == EOF || fsync(fileno(f)) < 0) {
		err = errno;
		fclose(f);
		return -err;
	}
	if (fclose(f) == EOF)
		return -errno;
	o->failed_op = "rb_file_s_rename";
	if (rename(o->tmp_path, o->path) < 0)
		return -errno;
	o->tmp_exists = 0;
	output_sync_dir(o->path);
	return 0;
}

/* Closes and removes the temporary file unless output_commit renamed it. */
static void output_release(struct output *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp_exists)
		unlink(o->tmp_path);
	o->tmp_exists = 0;
	free(o->tmp_path);
	o->tmp_path = NULL;
}

/* ------------------------------------------------------------------------------------- */
/* The job */

/* A column the job asked for, and its aggregates so far. */
struct column {
	const char *name; /* borrowed from the job's args */
	size_t index;	  /* its field in every row */
	int numeric;	  /* every value so far is a number */
	double sum, min, max;
};

/* One run of ExtractJob: what extract_perform sets up and cleans up. */
struct extract {
	struct winch_job *job;	 /* borrowed */
	const char *csv_path;	 /* borrowed from the job's args */
	const char *output_path; /* borrowed from the job's args */
	struct column *columns;	 /* owned: one per requested column */
	size_t ncolumns;
	size_t header_fields; /* fields in the header, and so in every row */
	long rows;	      /* rows written so far */
	struct csv csv;
	struct csv_record record;
	struct output out;
};

/*
 * Records why the job failed, with one backtrace line naming the function, and returns
 * WINCH_FAIL. error_class is the Ruby exception class the Web UI and the retry set show.
 */
static enum winch_result extract_fail(struct extract *x, const char *function,
				      const char *error_class, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum winch_result extract_fail(struct extract *x, const char *function,
				      const char *error_class, const char *fmt, ...)
{
	char message[4096 + 512]; /* room for a long path */
	char line[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	winch_job_set_error(x->job, error_class, message);
	snprintf(line, sizeof(line), "extract.c:in `%s'", function);
	winch_job_add_backtrace(x->job, line);
	return WINCH_FAIL;
}

/* The Errno class Ruby raises for the common errors, and its message text. */
struct errno_name {
	int number;
	const char *ruby_class;
	const char *text;
};

static const struct errno_name errno_names[] = {
	{ENOENT, "Errno::ENOENT", "No such file or directory"},
	{EACCES, "Errno::EACCES", "Permission denied"},
	{EISDIR, "Errno::EISDIR", "Is a directory"},
	{ENOTDIR, "Errno::ENOTDIR", "Not a directory"},
	{ENOSPC, "Errno::ENOSPC", "No space left on device"},
	{EDQUOT, "Errno::EDQUOT", "Disk quota exceeded"},
	{EROFS, "Errno::EROFS", "Read-only file system"},
	{EIO, "Errno::EIO", "Input/output error"},
	{EMFILE, "Errno::EMFILE", "Too many open files"},
};

/*
 * Fails the job as Ruby's File calls would: Errno::ENOENT with "No such file or directory
 * @ rb_sysopen - /data/in.csv". err is an errno value; op names the step as Ruby does.
 */
static enum winch_result extract_fail_errno(struct extract *x, const char *function, int err,
					    const char *op, const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].number == err)
			return extract_fail(x, function, errno_names[i].ruby_class, "%s @ %s - %s",
					    errno_names[i].text, op, path);
	return extract_fail(x, function, "SystemCallError", "Unknown error %d @ %s - %s", err, op,
			    path);
}

/* Fails the job after csv_read returned CSV_MALFORMED or CSV_READ_ERROR. */
static enum winch_result extract_fail_csv(struct extract *x, const char *function,
					  enum csv_status status)
{
	if (status == CSV_READ_ERROR)
		return extract_fail_errno(x, function, x->csv.read_errno, "io_fread", x->csv_path);
	return extract_fail(x, function, "CSV::MalformedCSVError", "%s: %s", x->csv_path,
			    x->csv.error);
}

/* The argument at index i if it is a non-empty string, else NULL. */
static const char *string_arg(struct json_object *args, size_t i)
{
	struct json_object *v = json_object_array_get_idx(args, i);

	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		return NULL;
	return json_object_get_string(v);
}

/* Checks the job's args, [csv_path, columns, output_path], and fills x from them. */
static enum winch_result extract_read_args(struct extract *x)
{
	struct json_object *args = winch_job_args(x->job);
	struct json_object *columns = json_object_array_get_idx(args, 1);
	size_t nargs = json_object_array_length(args);
	size_t i, j;

	if (nargs != 3)
		return extract_fail(x, "extract_read_args", "ArgumentError",
				    "wrong number of arguments (given %zu, expected 3: "
				    "csv_path, columns, output_path)",
				    nargs);
	x->csv_path = string_arg(args, 0);
	x->output_path = string_arg(args, 2);
	if (x->csv_path == NULL || x->output_path == NULL)
		return extract_fail(x, "extract_read_args", "ArgumentError",
				    "csv_path and output_path must be non-empty strings");
	x->ncolumns =
	    json_object_is_type(columns, json_type_array) ? json_object_array_length(columns) : 0;
	if (x->ncolumns == 0 || x->ncolumns > EXTRACT_MAX_COLUMNS)
		return extract_fail(x, "extract_read_args", "ArgumentError",
				    "columns must be an array of 1 to %d column names",
				    EXTRACT_MAX_COLUMNS);
	x->columns = extract_realloc(NULL, x->ncolumns * sizeof(*x->columns));
	memset(x->columns, 0, x->ncolumns * sizeof(*x->columns));
	for (i = 0; i < x->ncolumns; i++) {
		x->columns[i].name = string_arg(columns, i);
		x->columns[i].numeric = 1;
		if (x->columns[i].name == NULL)
			return extract_fail(x, "extract_read_args", "ArgumentError",
					    "columns[%zu] must be a non-empty string", i);
		for (j = 0; j < i; j++)
			if (strcmp(x->columns[j].name, x->columns[i].name) == 0)
				return extract_fail(x, "extract_read_args", "ArgumentError",
						    "column \"%s\" is named twice",
						    x->columns[i].name);
	}
	return WINCH_OK;
}

/* Header field i; a UTF-8 byte order mark (as spreadsheets write) is not part of the name. */
static const char *header_name(const struct csv_record *header, size_t i)
{
	const char *name = record_field(header, i);

	if (i == 0 && strncmp(name, "\xEF\xBB\xBF", 3) == 0)
		name += 3;
	return name;
}

/* Reads the header row and finds each requested column in it. */
static enum winch_result extract_read_header(struct extract *x)
{
	enum csv_status status = csv_read(&x->csv, &x->record);
	size_t i, f;

	if (status == CSV_MALFORMED || status == CSV_READ_ERROR)
		return extract_fail_csv(x, "extract_read_header", status);
	/* An empty file has no header: every column is then missing. */
	x->header_fields = status == CSV_RECORD ? x->record.n : 0;
	for (i = 0; i < x->ncolumns; i++) {
		for (f = 0; f < x->header_fields; f++)
			if (strcmp(header_name(&x->record, f), x->columns[i].name) == 0)
				break;
		if (f == x->header_fields)
			return extract_fail(x, "extract_read_header", "KeyError",
					    "key not found: \"%s\" (not a column of %s)",
					    x->columns[i].name, x->csv_path);
		x->columns[i].index = f; /* the first one, if the header names it twice */
	}
	return WINCH_OK;
}

/*
 * Whether s is a decimal number ("12", "-3.5", "1e6", ".5"), and its value in *out. Empty
 * text, spaces, "0x1A", "inf" and "nan" are not numbers. winch never calls setlocale, so
 * strtod reads '.' as the decimal point.
 */
static int parse_number(const char *s, double *out)
{
	const char *p = s;
	int digits = 0;

	if (*p == '-' || *p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (digits == 0)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return -1;
	*out = strtod(s, NULL);
	return isfinite(*out) ? 0 : -1; /* "1e999" is too big for a double */
}

/* Adds one value to a column's aggregates; the column stops being numeric at a non-number. */
static void column_add(struct column *col, const char *value, int first_row)
{
	double v;

	if (!col->numeric)
		return;
	if (parse_number(value, &v) < 0) {
		col->numeric = 0;
		return;
	}
	if (first_row) {
		col->min = v;
		col->max = v;
	}
	col->sum += v;
	if (v < col->min)
		col->min = v;
	if (v > col->max)
		col->max = v;
}

/* Writes the requested columns of the current row as one JSON line. Returns 0, or -errno. */
static int extract_write_row(struct extract *x)
{
	struct json_object *row = json_object_new_object();
	const char *text;
	size_t i, f;
	int rc = 0;

	for (i = 0; i < x->ncolumns; i++) {
		f = x->columns[i].index;
		json_object_object_add(
		    row, x->columns[i].name,
		    json_object_new_string_len(record_field(&x->record, f),
					       (int)record_field_len(&x->record, f)));
	}
	text = json_object_to_json_string_ext(row, EXTRACT_JSON_FLAGS);
	if (fputs(text, x->out.f) == EOF || putc('\n', x->out.f) == EOF)
		rc = -errno;
	json_object_put(row);
	return rc;
}

/*
 * Copies every row after the header. Every EXTRACT_CHECK_EVERY rows it asks whether winch
 * is stopping: if so it gives up with WINCH_REQUEUE, and the job runs again, from the start,
 * in the next process.
 */
static enum winch_result extract_copy_rows(struct extract *x)
{
	enum csv_status status;
	size_t i;
	int rc;

	for (;;) {
		status = csv_read(&x->csv, &x->record);
		if (status == CSV_END)
			return WINCH_OK;
		if (status != CSV_RECORD)
			return extract_fail_csv(x, "extract_copy_rows", status);
		if (x->record.n != x->header_fields)
			return extract_fail(x, "extract_copy_rows", "CSV::MalformedCSVError",
					    "%s: the row in line %ld has %zu fields; the header "
					    "has %zu",
					    x->csv_path, x->csv.row_line, x->record.n,
					    x->header_fields);
		for (i = 0; i < x->ncolumns; i++)
			column_add(&x->columns[i], record_field(&x->record, x->columns[i].index),
				   x->rows == 0);
		rc = extract_write_row(x);
		if (rc < 0)
			return extract_fail_errno(x, "extract_write_row", -rc, "io_write",
						  x->out.tmp_path);
		x->rows++;
		if (x->rows % EXTRACT_CHECK_EVERY == 0 && winch_job_stopping(x->job)) {
			winch_job_log(x->job, "stopping: %s goes back to its queue after %ld rows",
				      x->csv_path, x->rows);
			return WINCH_REQUEUE;
		}
	}
}

/* Enqueues ExtractSummaryJob: [jid, output_path, rows, {column: {sum, min, max}}]. */
static enum winch_result extract_push_summary(struct extract *x)
{
	struct json_object *args = json_object_new_array();
	struct json_object *aggregates = json_object_new_object();
	struct json_object *agg;
	struct winch_push push;
	size_t i;
	int rc;

	for (i = 0; i < x->ncolumns; i++) {
		/* With no rows, no column has shown that it is numeric. */
		if (!x->columns[i].numeric || x->rows == 0)
			continue;
		agg = json_object_new_object();
		json_object_object_add(agg, "sum", json_object_new_double(x->columns[i].sum));
		json_object_object_add(agg, "min", json_object_new_double(x->columns[i].min));
		json_object_object_add(agg, "max", json_object_new_double(x->columns[i].max));
		json_object_object_add(aggregates, x->columns[i].name, agg);
	}
	json_object_array_add(args, json_object_new_string(winch_job_jid(x->job)));
	json_object_array_add(args, json_object_new_string(x->output_path));
	json_object_array_add(args, json_object_new_int64(x->rows));
	json_object_array_add(args, aggregates);

	memset(&push, 0, sizeof(push));
	push.class_name = "ExtractSummaryJob";
	push.queue = "reports";
	push.args_json = json_object_to_json_string_ext(args, EXTRACT_JSON_FLAGS);
	rc = winch_job_push(x->job, &push, NULL); /* sent now, copied before it returns */
	json_object_put(args);
	if (rc < 0)
		return extract_fail(x, "extract_push_summary", "RuntimeError",
				    "cannot enqueue ExtractSummaryJob");
	return WINCH_OK;
}

/* The handler: ExtractJob.perform(csv_path, columns, output_path). */
static enum winch_result extract_perform(struct winch_job *job)
{
	struct extract x;
	enum winch_result result;
	int rc;

	memset(&x, 0, sizeof(x));
	x.job = job;
	result = extract_read_args(&x);
	if (result != WINCH_OK)
		goto out;
	rc = csv_open(&x.csv, x.csv_path);
	if (rc < 0) {
		result = extract_fail_errno(&x, "csv_open", -rc, "rb_sysopen", x.csv_path);
		goto out;
	}
	result = extract_read_header(&x);
	if (result != WINCH_OK)
		goto out;
	rc = output_open(&x.out, x.output_path);
	if (rc < 0) {
		result = extract_fail_errno(&x, "output_open", -rc, "rb_sysopen", x.output_path);
		goto out;
	}
	result = extract_copy_rows(&x);
	if (result != WINCH_OK)
		goto out;
	rc = output_commit(&x.out);
	if (rc < 0) {
		result =
		    extract_fail_errno(&x, "output_commit", -rc, x.out.failed_op, x.output_path);
		goto out;
	}
	/* The summary goes out only once the output is in place for ExtractSummaryJob to read. */
	result = extract_push_summary(&x);
	if (result == WINCH_OK)
		winch_job_log(job, "extracted %ld rows from %s into %s", x.rows, x.csv_path,
			      x.output_path);
out:
	output_release(&x.out); /* removes the temporary file unless it was renamed */
	csv_close(&x.csv);
	record_release(&x.record);
	free(x.columns);
	return result;
}

/* ------------------------------------------------------------------------------------- */
/* Registration */

/* Sidekiq's sidekiq_retry_in: count is 0 after the first failure. winch adds its jitter. */
static int extract_retry_in(const struct winch_job *job, int count, const char *error_class,
			    const char *message)
{
	(void)job;
	(void)error_class;
	(void)message;
	return 10 * (count + 1);
}

/*
 * As `sidekiq_options retry: 3, backtrace: 5` on the Ruby class. These apply to payloads
 * that carry no `retry` or `backtrace` of their own; Ruby's Sidekiq client writes
 * "retry": true into every job it pushes, so give the Ruby class the same sidekiq_options.
 */
static const struct winch_class_options extract_options = {
	.retry = WINCH_RETRY_COUNT,
	.retry_count = 3,
	.backtrace = 5,
	.retry_in = extract_retry_in,
};

static const struct winch_handler_def extract_handlers[] = {
	{"ExtractJob", extract_perform, &extract_options},
	{NULL, NULL, NULL},
};

WINCH_MODULE("extract", extract_handlers, NULL, NULL, NULL);
