/*
 * k8s_check.c - checks a clarifyd Kubernetes manifest without a cluster.
 *
 * usage: k8s_check [--config-out FILE] MANIFEST
 *
 * Reads every YAML document of MANIFEST (etc/k8s/clarifyd-indexed-job.yaml)
 * with libyaml and checks what a schema cannot: each document is a v1
 * ConfigMap, Secret or PersistentVolumeClaim or a batch/v1 Job; every
 * volumeMount names a declared volume and every volume a declared object;
 * the Secret is mounted read-only with defaultMode 0400, where the
 * config's llm.api_key_file points, and never reaches an env var or the
 * command line; $(NAME) in command, args and subPathExpr names a variable
 * of the container's env (else Kubernetes leaves it as it is); the Job
 * that runs clarifyd is Indexed, its completions and parallelism equal
 * the N of --shard K/N, K is the completion index, and it runs --once;
 * a Job runs 'clarify import --shards N' with the same N.  Each problem
 * is printed as MANIFEST:LINE: reason; the exit status is 0 when there is
 * none, 1 otherwise, 2 on a usage or read error.  --config-out writes
 * the ConfigMap's clarifyd.yaml to FILE (for clarifyd --check-config).
 *
 * Written by hand: libyaml gives a node tree and nothing more, so the
 * lookups by key path, the YAML 1.1 integers Kubernetes reads (0400 is
 * octal) and the word splitting of a 'sh -c' command are done here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DOCS 32
#define MAX_NAMES 64
#define MAX_WORDS 128
#define INDEX_FIELD "metadata.annotations['batch.kubernetes.io/job-completion-index']"

struct names {
	const char *v[MAX_NAMES];
	int n;
};

struct check {
	const char *file;
	yaml_document_t docs[MAX_DOCS];
	int ndocs, errors;
	struct names configmaps, secrets, claims;
	struct names secret_values;     /* the Secret's values: never on argv */
	const char *api_key_file;       /* llm.api_key_file of clarifyd.yaml */
	const char *config_text;        /* the ConfigMap's clarifyd.yaml */
	yaml_document_t config;         /* ... parsed, when config_loaded */
	int config_loaded;
	long import_shards;             /* --shards of clarify import; -1: none */
	long shards;                    /* N of clarifyd --shard K/N; -1: none */
	int workers;                    /* containers that run clarifyd */
};

/* One container's command line, split into words. */
struct argv {
	const char *w[MAX_WORDS];
	char *buf;                      /* the words of a 'sh -c' script */
	int n, shell;
};

static void bad(struct check *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct check *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	if (n)
		printf("%s:%lu: ", c->file, (unsigned long)n->start_mark.line + 1);
	else
		printf("%s: ", c->file);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	c->errors++;
}

static const char *str(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int is(const yaml_node_t *n, const char *s)
{
	const char *v = str(n);

	return v && strcmp(v, s) == 0;
}

/* The value of KEY in the mapping MAP, or NULL. */
static yaml_node_t *get(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		if (is(yaml_document_get_node(d, p->key), key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* The node at a dotted PATH ("spec.template.spec") under N, or NULL. */
static yaml_node_t *at(yaml_document_t *d, yaml_node_t *n, const char *path)
{
	char key[64];
	size_t len;

	while (n && *path) {
		len = strcspn(path, ".");
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		n = get(d, n, key);
		path += len + (path[len] == '.');
	}
	return n;
}

static int seq_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_at(yaml_document_t *d, const yaml_node_t *n, int i)
{
	return yaml_document_get_node(d, n->data.sequence.items.start[i]);
}

/* An integer as Kubernetes' YAML 1.1 reader takes it: plain, 0400 octal. */
static int yaml_int(const yaml_node_t *n, long *out)
{
	const char *s = str(n);
	char *end;
	int base = 10;

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !*s)
		return -1;
	if (s[0] == '0' && s[1] == 'o')
		s += 2, base = 8;
	else if (s[0] == '0' && s[1])
		base = 8;
	*out = strtol(s, &end, base);
	return *end || end == s ? -1 : 0;
}

static int has_name(const struct names *l, const char *s)
{
	int i;

	for (i = 0; s && i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0)
			return 1;
	}
	return 0;
}

static void add_name(struct check *c, struct names *l, const yaml_node_t *n)
{
	if (!str(n))
		bad(c, n, "a name must be a string");
	else if (l->n == MAX_NAMES)
		bad(c, n, "more than %d names", MAX_NAMES);
	else
		l->v[l->n++] = str(n);
}

/* ---- the whole file ---- */

static int load(struct check *c)
{
	yaml_parser_t p;
	FILE *f = fopen(c->file, "rb");
	int rc = 0;

	if (!f) {
		fprintf(stderr, "k8s_check: cannot open '%s'\n", c->file);
		return 2;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	for (;;) {
		yaml_document_t *d = &c->docs[c->ndocs];

		if (!yaml_parser_load(&p, d)) {
			printf("%s:%lu: not YAML: %s\n", c->file, (unsigned long)p.problem_mark.line + 1,
			       p.problem ? p.problem : "parse error");
			rc = 1;
			break;
		}
		if (!yaml_document_get_root_node(d)) {
			yaml_document_delete(d);
			break;
		}
		if (++c->ndocs == MAX_DOCS) {
			printf("%s: more than %d documents\n", c->file, MAX_DOCS - 1);
			rc = 1;
			break;
		}
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

/* apiVersion, kind and metadata.name; the names each kind declares */
static void check_kind(struct check *c, yaml_document_t *d)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	yaml_node_t *api = get(d, root, "apiVersion"), *kind = get(d, root, "kind");
	yaml_node_t *name = at(d, root, "metadata.name");

	if (!name)
		bad(c, root, "a document without metadata.name");
	if (is(api, "v1") && is(kind, "ConfigMap"))
		add_name(c, &c->configmaps, name);
	else if (is(api, "v1") && is(kind, "Secret"))
		add_name(c, &c->secrets, name);
	else if (is(api, "v1") && is(kind, "PersistentVolumeClaim"))
		add_name(c, &c->claims, name);
	else if (!(is(api, "batch/v1") && is(kind, "Job")))
		bad(c, kind ? kind : root, "apiVersion '%s' kind '%s' is none of v1 ConfigMap, "
		    "Secret, PersistentVolumeClaim or batch/v1 Job",
		    str(api) ? str(api) : "", str(kind) ? str(kind) : "");
}

/* The Secret's values (stringData, data): to be found on no command line */
static void secret_values(struct check *c, yaml_document_t *d, yaml_node_t *map)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *v = yaml_document_get_node(d, p->value);

		if (str(v) && strlen(str(v)) >= 8 && c->secret_values.n < MAX_NAMES)
			c->secret_values.v[c->secret_values.n++] = str(v);
	}
}

/* The ConfigMap's clarifyd.yaml, and its llm.api_key_file */
static void config_map(struct check *c, yaml_document_t *d, yaml_node_t *root)
{
	yaml_node_t *text = get(d, get(d, root, "data"), "clarifyd.yaml");
	yaml_document_t *cd = &c->config;
	yaml_parser_t p;

	if (!str(text)) {
		bad(c, root, "ConfigMap '%s' has no data key clarifyd.yaml",
		    str(at(d, root, "metadata.name")));
		return;
	}
	if (c->config_text) {
		bad(c, root, "a second ConfigMap with clarifyd.yaml");
		return;
	}
	c->config_text = str(text);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)c->config_text,
				     strlen(c->config_text));
	if (!yaml_parser_load(&p, cd)) {
		bad(c, text, "clarifyd.yaml is not YAML: %s", p.problem ? p.problem : "");
		yaml_parser_delete(&p);
		return;
	}
	c->config_loaded = 1;
	c->api_key_file = str(at(cd, yaml_document_get_root_node(cd), "llm.api_key_file"));
	yaml_parser_delete(&p);
}

/* ---- a pod template ---- */

/* The container's env var NAME, or NULL. */
static yaml_node_t *env_var(yaml_document_t *d, yaml_node_t *ctr, const char *name)
{
	yaml_node_t *env = get(d, ctr, "env");
	int i;

	for (i = 0; i < seq_len(env); i++) {
		if (is(get(d, seq_at(d, env, i), "name"), name))
			return seq_at(d, env, i);
	}
	return NULL;
}

/* NAME is the completion index in this container */
static int is_index_var(yaml_document_t *d, yaml_node_t *ctr, const char *name, int indexed)
{
	yaml_node_t *v = env_var(d, ctr, name);

	if (indexed && strcmp(name, "JOB_COMPLETION_INDEX") == 0)
		return 1;
	return v && is(at(d, v, "valueFrom.fieldRef.fieldPath"), INDEX_FIELD);
}

/* Every $(NAME) in S names an env var of the container (or the one the
 * Job controller adds to an Indexed Job's pods). */
static void check_refs(struct check *c, yaml_document_t *d, yaml_node_t *ctr, yaml_node_t *n,
		       int indexed)
{
	const char *s = str(n), *e;
	char name[128];

	while (s && (s = strstr(s, "$(")) != NULL) {
		e = strchr(s, ')');
		if (!e || (size_t)(e - s - 2) >= sizeof(name))
			break;
		memcpy(name, s + 2, (size_t)(e - s - 2));
		name[e - s - 2] = '\0';
		if (!env_var(d, ctr, name) && !(indexed && strcmp(name, "JOB_COMPLETION_INDEX") == 0))
			bad(c, n, "$(%s) is not in the container's env: Kubernetes leaves it "
			    "unexpanded", name);
		s = e;
	}
}

/* No env var carries the Secret, by reference or by value. */
static void check_env(struct check *c, yaml_document_t *d, yaml_node_t *ctr)
{
	yaml_node_t *env = get(d, ctr, "env"), *from = get(d, ctr, "envFrom");
	int i, j;

	for (i = 0; i < seq_len(env); i++) {
		yaml_node_t *e = seq_at(d, env, i), *name = get(d, e, "name");

		if (at(d, e, "valueFrom.secretKeyRef"))
			bad(c, e, "env var '%s' takes a Secret: the key goes in a read-only file",
			    str(name));
		else if (str(name) && strstr(str(name), "API_KEY") && get(d, e, "value"))
			bad(c, e, "env var '%s' holds an API key: it goes in the Secret's file",
			    str(name));
		for (j = 0; j < c->secret_values.n; j++) {
			if (str(get(d, e, "value")) && strstr(str(get(d, e, "value")), c->secret_values.v[j]))
				bad(c, e, "env var '%s' holds the Secret's value", str(name));
		}
	}
	for (i = 0; i < seq_len(from); i++) {
		if (get(d, seq_at(d, from, i), "secretRef"))
			bad(c, seq_at(d, from, i), "envFrom takes a Secret into the environment");
	}
}

/* The volume named NAME of the pod, or NULL. */
static yaml_node_t *volume(yaml_document_t *d, yaml_node_t *pod, const char *name)
{
	yaml_node_t *vols = get(d, pod, "volumes");
	int i;

	for (i = 0; name && i < seq_len(vols); i++) {
		if (is(get(d, seq_at(d, vols, i), "name"), name))
			return seq_at(d, vols, i);
	}
	return NULL;
}

/* Each volume names an object of this file; a Secret's is mode 0400. */
static void check_volumes(struct check *c, yaml_document_t *d, yaml_node_t *pod)
{
	yaml_node_t *vols = get(d, pod, "volumes"), *v, *x;
	long mode;
	int i;

	for (i = 0; i < seq_len(vols); i++) {
		v = seq_at(d, vols, i);
		if ((x = at(d, v, "configMap.name")) && !has_name(&c->configmaps, str(x)))
			bad(c, x, "no ConfigMap '%s' in this file", str(x));
		if ((x = at(d, v, "persistentVolumeClaim.claimName")) && !has_name(&c->claims, str(x)))
			bad(c, x, "no PersistentVolumeClaim '%s' in this file", str(x));
		if (!(x = at(d, v, "secret.secretName")))
			continue;
		if (!has_name(&c->secrets, str(x)))
			bad(c, x, "no Secret '%s' in this file", str(x));
		if (yaml_int(at(d, v, "secret.defaultMode"), &mode) || mode != 0400)
			bad(c, get(d, v, "secret"), "Secret volume '%s' without defaultMode: 0400",
			    str(get(d, v, "name")));
	}
}

/* Each mount names a volume of the pod; the Secret's mounts are
 * read-only.  Returns the mount of the Secret, or NULL. */
static yaml_node_t *check_mounts(struct check *c, yaml_document_t *d, yaml_node_t *pod,
				 yaml_node_t *ctr, int indexed)
{
	yaml_node_t *mounts = get(d, ctr, "volumeMounts"), *secret = NULL;
	int i;

	for (i = 0; i < seq_len(mounts); i++) {
		yaml_node_t *m = seq_at(d, mounts, i), *name = get(d, m, "name");
		yaml_node_t *v = volume(d, pod, str(name));

		if (!v) {
			bad(c, m, "volumeMount of '%s', which is not a volume of the pod",
			    str(name) ? str(name) : "");
			continue;
		}
		check_refs(c, d, ctr, get(d, m, "subPathExpr"), indexed);
		if (!get(d, v, "secret"))
			continue;
		if (!is(get(d, m, "readOnly"), "true"))
			bad(c, m, "the Secret's volume '%s' is mounted without readOnly: true",
			    str(name));
		secret = m;
	}
	return secret;
}

/* ---- a command line ---- */

/* SCRIPT's words, split in place at blanks and ; & | (enough for the
 * words looked for here: no quoting is understood) */
static void split_script(struct argv *a)
{
	char *s = a->buf;

	a->n = 0;
	while (*s && a->n < MAX_WORDS) {
		s += strspn(s, " \t\n;&|");
		if (!*s)
			break;
		a->w[a->n++] = s;
		s += strcspn(s, " \t\n;&|");
		if (*s)
			*s++ = '\0';
	}
}

/* command then args; the script of 'sh -c SCRIPT' in words */
static void argv_of(yaml_document_t *d, yaml_node_t *ctr, struct argv *a)
{
	const char *keys[] = { "command", "args" };
	int k, i;

	memset(a, 0, sizeof(*a));
	for (k = 0; k < 2; k++) {
		yaml_node_t *s = get(d, ctr, keys[k]);

		for (i = 0; i < seq_len(s) && a->n < MAX_WORDS; i++)
			a->w[a->n++] = str(seq_at(d, s, i)) ? str(seq_at(d, s, i)) : "";
	}
	if (a->n < 3 || strcmp(a->w[1], "-c") != 0 ||
	    !(strcmp(a->w[0], "sh") == 0 || strcmp(a->w[0], "bash") == 0 ||
	      strcmp(a->w[0], "/bin/sh") == 0 || strcmp(a->w[0], "/bin/bash") == 0))
		return;
	a->buf = strdup(a->w[2]);
	if (!a->buf) {
		a->n = 0;
		return;
	}
	a->shell = 1;
	split_script(a);
}

/* The index of the word whose last path component is NAME, or -1. */
static int word(const struct argv *a, const char *name)
{
	int i;

	for (i = 0; i < a->n; i++) {
		const char *b = strrchr(a->w[i], '/');

		if (strcmp(b ? b + 1 : a->w[i], name) == 0)
			return i;
	}
	return -1;
}

/* The value of OPT (--opt V or --opt=V) from word FROM on, or NULL. */
static const char *opt_value(const struct argv *a, int from, const char *opt)
{
	size_t len = strlen(opt);
	int i;

	for (i = from; i < a->n; i++) {
		if (strcmp(a->w[i], opt) == 0)
			return i + 1 < a->n ? a->w[i + 1] : "";
		if (strncmp(a->w[i], opt, len) == 0 && a->w[i][len] == '=')
			return a->w[i] + len + 1;
	}
	return NULL;
}

/* S names the completion index: $(VAR), or $VAR / ${VAR} under a shell. */
static int names_index(yaml_document_t *d, yaml_node_t *ctr, const char *s, int shell)
{
	char name[128];
	size_t len;

	if (strncmp(s, "$(", 2) == 0)
		s += 2;
	else if (shell && strncmp(s, "${", 2) == 0)
		s += 2;
	else if (shell && s[0] == '$')
		s += 1;
	else
		return 0;
	len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	if (!len || len >= sizeof(name))
		return 0;
	memcpy(name, s, len);
	name[len] = '\0';
	return is_index_var(d, ctr, name, 1);
}

/* The K of --shard K/N, "$(INDEX)", in OUT. */
static const char *index_ref(const char *shard, char *out, size_t size)
{
	size_t len = strcspn(shard, "/");

	if (len >= size)
		len = size - 1;
	memcpy(out, shard, len);
	out[len] = '\0';
	return out;
}

/* ---- the Jobs ---- */

/* clarifyd --shard K/N --once, K the index, N == completions == parallelism */
static void check_worker(struct check *c, yaml_document_t *d, yaml_node_t *job,
			 yaml_node_t *ctr, const struct argv *a, int at_word)
{
	yaml_node_t *spec = get(d, job, "spec");
	const char *shard = opt_value(a, at_word, "--shard"), *store = opt_value(a, at_word, "-s");
	const char *slash = shard ? strrchr(shard, '/') : NULL;
	long completions = -1, parallelism = -1, n = -1;
	char *end, ref[128];

	c->workers++;
	if (!is(get(d, spec, "completionMode"), "Indexed"))
		bad(c, spec, "the Job running clarifyd is not Indexed (completionMode: %s)",
		    str(get(d, spec, "completionMode")) ? str(get(d, spec, "completionMode")) : "missing");
	if (yaml_int(get(d, spec, "completions"), &completions))
		bad(c, spec, "completions is not an integer");
	if (yaml_int(get(d, spec, "parallelism"), &parallelism))
		bad(c, spec, "parallelism is not an integer");
	if (slash)
		n = strtol(slash + 1, &end, 10);
	if (!slash || *end || n < 1) {
		bad(c, ctr, "clarifyd runs without --shard K/N");
		return;
	}
	if (!names_index(d, ctr, shard, a->shell))
		bad(c, ctr, "the K of --shard '%s' is not the completion index", shard);
	else if (!store || !strstr(store, index_ref(shard, ref, sizeof(ref))))
		bad(c, ctr, "clarifyd's store -s '%s' is not the one of index %s",
		    store ? store : "", ref);
	if (opt_value(a, at_word, "--once") == NULL)
		bad(c, ctr, "clarifyd runs without --once: the Job would never complete");
	if (completions != n || parallelism != n)
		bad(c, spec, "completions %ld and parallelism %ld are not the %ld shards of --shard",
		    completions, parallelism, n);
	if (get(d, spec, "backoffLimitPerIndex") &&
	    !is(at(d, job, "spec.template.spec.restartPolicy"), "Never"))
		bad(c, spec, "backoffLimitPerIndex needs restartPolicy: Never");
	c->shards = n;
}

/* The Secret's mount is where clarifyd.yaml's llm.api_key_file points. */
static void check_key_path(struct check *c, yaml_document_t *d, yaml_node_t *mount)
{
	const char *dir = str(get(d, mount, "mountPath"));
	size_t len = dir ? strlen(dir) : 0;

	if (!c->api_key_file || !*c->api_key_file) {
		bad(c, mount, "clarifyd.yaml sets no llm.api_key_file for the mounted Secret");
		return;
	}
	if (!dir || strncmp(c->api_key_file, dir, len) != 0 || c->api_key_file[len] != '/')
		bad(c, mount, "llm.api_key_file '%s' is not under the Secret's mount '%s'",
		    c->api_key_file, dir ? dir : "");
}

/* Nothing of the Secret on the command line; the roles of the command. */
static void check_command(struct check *c, yaml_document_t *d, yaml_node_t *job,
			  yaml_node_t *ctr, int indexed)
{
	struct argv a;
	const char *shards;
	int i, j, w;

	argv_of(d, ctr, &a);
	for (i = 0; i < a.n; i++) {
		for (j = 0; j < c->secret_values.n; j++) {
			if (strstr(a.w[i], c->secret_values.v[j]))
				bad(c, ctr, "the Secret's value is on the command line");
		}
	}
	for (i = 0; i < seq_len(get(d, ctr, "args")); i++)
		check_refs(c, d, ctr, seq_at(d, get(d, ctr, "args"), i), indexed);
	for (i = 0; i < seq_len(get(d, ctr, "command")); i++)
		check_refs(c, d, ctr, seq_at(d, get(d, ctr, "command"), i), indexed);
	w = word(&a, "clarifyd");
	if (w >= 0)
		check_worker(c, d, job, ctr, &a, w);
	w = word(&a, "clarify");
	shards = w >= 0 && word(&a, "import") > w ? opt_value(&a, w, "--shards") : NULL;
	if (shards) {
		char *end;

		c->import_shards = strtol(shards, &end, 10);
		if (*end || c->import_shards < 1)
			bad(c, ctr, "clarify import --shards '%s' is not a count", shards);
	}
	free(a.buf);
}

static void check_containers(struct check *c, yaml_document_t *d, yaml_node_t *job,
			     yaml_node_t *pod, const char *list, int indexed)
{
	yaml_node_t *ctrs = get(d, pod, list);
	int i;

	for (i = 0; i < seq_len(ctrs); i++) {
		yaml_node_t *ctr = seq_at(d, ctrs, i), *secret;
		int before = c->workers;

		secret = check_mounts(c, d, pod, ctr, indexed);
		check_env(c, d, ctr);
		check_command(c, d, job, ctr, indexed);
		if (c->workers > before && !secret)
			bad(c, ctr, "clarifyd's container does not mount the Secret");
		else if (secret && c->workers > before)
			check_key_path(c, d, secret);
		if (!is(at(d, pod, "securityContext.runAsNonRoot"), "true") &&
		    !is(at(d, ctr, "securityContext.runAsNonRoot"), "true"))
			bad(c, ctr, "container '%s' may run as root (no runAsNonRoot: true)",
			    str(get(d, ctr, "name")));
	}
}

static void check_job(struct check *c, yaml_document_t *d, yaml_node_t *job)
{
	yaml_node_t *pod = at(d, job, "spec.template.spec");
	yaml_node_t *rp = get(d, pod, "restartPolicy");
	int indexed = is(at(d, job, "spec.completionMode"), "Indexed");

	if (!pod || !seq_len(get(d, pod, "containers"))) {
		bad(c, job, "Job without spec.template.spec.containers");
		return;
	}
	if (!is(rp, "Never") && !is(rp, "OnFailure"))
		bad(c, rp ? rp : pod, "a Job's pods need restartPolicy Never or OnFailure");
	check_volumes(c, d, pod);
	check_containers(c, d, job, pod, "initContainers", indexed);
	check_containers(c, d, job, pod, "containers", indexed);
}

static int write_config(struct check *c, const char *path)
{
	FILE *f;
	int rc;

	if (!c->config_text) {
		fprintf(stderr, "k8s_check: no clarifyd.yaml to write\n");
		return 1;
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "k8s_check: cannot write '%s'\n", path);
		return 2;
	}
	rc = fputs(c->config_text, f) < 0;
	rc |= fclose(f) != 0;
	return rc ? 2 : 0;
}

static void check_all(struct check *c)
{
	int i;

	for (i = 0; i < c->ndocs; i++)
		check_kind(c, &c->docs[i]);
	for (i = 0; i < c->ndocs; i++) {
		yaml_node_t *root = yaml_document_get_root_node(&c->docs[i]);

		if (is(get(&c->docs[i], root, "kind"), "Secret")) {
			secret_values(c, &c->docs[i], get(&c->docs[i], root, "stringData"));
			secret_values(c, &c->docs[i], get(&c->docs[i], root, "data"));
		} else if (is(get(&c->docs[i], root, "kind"), "ConfigMap")) {
			config_map(c, &c->docs[i], root);
		}
	}
	/* the import first, so that a worker can compare its shard count */
	for (i = 0; i < c->ndocs; i++) {
		yaml_node_t *root = yaml_document_get_root_node(&c->docs[i]);

		if (is(get(&c->docs[i], root, "kind"), "Job"))
			check_job(c, &c->docs[i], root);
	}
	if (!c->configmaps.n || !c->secrets.n || !c->claims.n)
		bad(c, NULL, "wanted a ConfigMap, a Secret and a PersistentVolumeClaim");
	if (c->workers != 1)
		bad(c, NULL, "%d containers run clarifyd, wanted one, in an Indexed Job", c->workers);
	if (c->import_shards < 0)
		bad(c, NULL, "no Job runs 'clarify import --shards N'");
	else if (c->shards >= 0 && c->import_shards != c->shards)
		bad(c, NULL, "clarify import makes %ld shards, clarifyd runs %ld",
		    c->import_shards, c->shards);
}

int main(int argc, char **argv)
{
	static struct check c;
	const char *config_out = NULL;
	int rc, i;

	if (argc == 4 && strcmp(argv[1], "--config-out") == 0) {
		config_out = argv[2];
		c.file = argv[3];
	} else if (argc == 2 && argv[1][0] != '-') {
		c.file = argv[1];
	} else {
		fprintf(stderr, "usage: k8s_check [--config-out FILE] MANIFEST\n");
		return 2;
	}
	c.import_shards = c.shards = -1;
	rc = load(&c);
	if (rc)
		goto out;
	check_all(&c);
	if (config_out)
		rc = write_config(&c, config_out);
	if (!rc && c.errors)
		rc = 1;
	if (!rc)
		printf("%s: %d documents, one Indexed Job of %ld shards: no problem found\n",
		       c.file, c.ndocs, c.shards);
out:
	if (c.config_loaded)
		yaml_document_delete(&c.config);
	for (i = 0; i < c.ndocs; i++)
		yaml_document_delete(&c.docs[i]);
	return rc;
}
