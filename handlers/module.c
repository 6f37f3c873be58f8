/* module: dlopen handler modules after checking their ownership, permissions and API version. */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <winch/winch.h>

#include "log.h"
#include "module.h"
#include "registry.h"
#include "banned.h"

static struct sbuf summary;

/* Only root or the user winch runs as may own it; nobody else may be able to write it. */
static int check_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return log_errorf("module '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return log_errorf("module '%s': not a regular file", path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return log_errorf("module '%s': owned by uid %ld, not by root or by the user winch "
				  "runs as (uid %ld)",
				  path, (long)st.st_uid, (long)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return log_errorf("module '%s': writable by %s (mode %03o); refusing to load it",
				  path, st.st_mode & S_IWOTH ? "others" : "its group",
				  (unsigned)(st.st_mode & 0777));
	return 0;
}

int module_load(const char *path)
{
	const struct winch_module *m;
	char *real;
	void *h;

	/*
	 * dlopen() searches the library path for a name without a '/': load exactly the file
	 * that was checked, by its absolute path.
	 */
	real = realpath(path, NULL);
	if (real == NULL)
		return log_errorf("module '%s': %s", path, strerror(errno));
	if (check_file(path) < 0) {
		free(real);
		return -1;
	}
	h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	free(real);
	if (h == NULL)
		return log_errorf("module '%s': cannot load: %s", path, dlerror());
	m = dlsym(h, "winch_module");
	if (m == NULL) {
		dlclose(h);
		return log_errorf("module '%s': not a winch module (no 'winch_module' symbol)", path);
	}
	if (m->api_version != WINCH_API_VERSION) {
		log_error("module '%s': built for winch API version %d; this winch has API "
			  "version %d: rebuild it against this winch's headers",
			  path, m->api_version, WINCH_API_VERSION);
		dlclose(h);
		return -1;
	}
	if (m->handlers == NULL && m->on_error == NULL && m->on_death == NULL)
		return log_errorf("module '%s': registers nothing", path);
	if (m->init && m->init() < 0)
		return log_errorf("module '%s': its init function refused to start", path);
	if (m->handlers && registry_add(m->handlers, path) < 0)
		return -1; /* registry_add named the class and the file */
	registry_add_hooks(m->on_error, m->on_death);
	if (summary.len)
		sbuf_adds(&summary, ", ");
	sbuf_addf(&summary, "%s (%s)", m->name ? m->name : "?", path);
	/* The handle stays open for the life of the process. */
	return 0;
}

static int has_so_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int module_load_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return log_errorf("handler directory '%s': %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !has_so_suffix(de->d_name))
			continue;
		names = xrealloc(names, sizeof(*names) * (n + 1));
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (rc == 0 && module_load(names[i]) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

const char *module_summary(void)
{
	return summary.len ? summary.buf : "none";
}
