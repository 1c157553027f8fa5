/* gccinput: the source the gcc-O2 workload compiles (it is never run by
 * the harness, but it is a complete program). A tiny calculator language:
 * a tokenizer, a recursive-descent compiler to stack bytecode, a virtual
 * machine, variables in an open-addressing hash table, and a merge sort
 * of the variables for printing. Input on stdin, one statement a line:
 *     x = 3 * (4 + y)
 *     print x
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok { T_END, T_NUM, T_NAME, T_OP, T_PRINT };
enum op { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG, OP_PRINT, OP_HALT };

struct token {
	enum tok kind;
	long num;
	char text[32];
};

struct lexer {
	const char *p;
	struct token tok;
};

struct insn {
	enum op op;
	long arg;
};

struct program {
	struct insn code[256];
	int len;
	char names[64][32];
	int nnames;
};

struct entry {
	char key[32];
	long value;
	int used;
};

#define TABLE_SIZE 128

struct table {
	struct entry slots[TABLE_SIZE];
	int count;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static struct entry *lookup(struct table *t, const char *key, int create)
{
	uint32_t i = hash(key) % TABLE_SIZE;
	for (int n = 0; n < TABLE_SIZE; n++, i = (i + 1) % TABLE_SIZE) {
		struct entry *e = &t->slots[i];
		if (e->used && strcmp(e->key, key) == 0)
			return e;
		if (!e->used) {
			if (!create)
				return NULL;
			e->used = 1;
			snprintf(e->key, sizeof e->key, "%s", key);
			e->value = 0;
			t->count++;
			return e;
		}
	}
	return NULL;
}

static void next(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
	struct token *t = &lx->tok;
	t->text[0] = '\0';
	if (*lx->p == '\0' || *lx->p == '\n') {
		t->kind = T_END;
	} else if (isdigit((unsigned char)*lx->p)) {
		t->kind = T_NUM;
		t->num = strtol(lx->p, (char **)&lx->p, 10);
	} else if (isalpha((unsigned char)*lx->p)) {
		size_t n = 0;
		while (isalnum((unsigned char)*lx->p) && n < sizeof t->text - 1)
			t->text[n++] = *lx->p++;
		t->text[n] = '\0';
		t->kind = strcmp(t->text, "print") == 0 ? T_PRINT : T_NAME;
	} else {
		t->kind = T_OP;
		t->text[0] = *lx->p++;
		t->text[1] = '\0';
	}
}

static int emit(struct program *pg, enum op op, long arg)
{
	if (pg->len >= (int)(sizeof pg->code / sizeof pg->code[0]))
		return -1;
	pg->code[pg->len].op = op;
	pg->code[pg->len].arg = arg;
	pg->len++;
	return 0;
}

static long name_index(struct program *pg, const char *name)
{
	for (int i = 0; i < pg->nnames; i++)
		if (strcmp(pg->names[i], name) == 0)
			return i;
	if (pg->nnames >= 64)
		return -1;
	snprintf(pg->names[pg->nnames], sizeof pg->names[0], "%s", name);
	return pg->nnames++;
}

static int expr(struct lexer *lx, struct program *pg);

static int primary(struct lexer *lx, struct program *pg)
{
	struct token t = lx->tok;
	if (t.kind == T_NUM) {
		next(lx);
		return emit(pg, OP_PUSH, t.num);
	}
	if (t.kind == T_NAME) {
		next(lx);
		long i = name_index(pg, t.text);
		return i < 0 ? -1 : emit(pg, OP_LOAD, i);
	}
	if (t.kind == T_OP && t.text[0] == '-') {
		next(lx);
		if (primary(lx, pg) != 0)
			return -1;
		return emit(pg, OP_NEG, 0);
	}
	if (t.kind == T_OP && t.text[0] == '(') {
		next(lx);
		if (expr(lx, pg) != 0)
			return -1;
		if (lx->tok.kind != T_OP || lx->tok.text[0] != ')')
			return -1;
		next(lx);
		return 0;
	}
	return -1;
}

static int term(struct lexer *lx, struct program *pg)
{
	if (primary(lx, pg) != 0)
		return -1;
	while (lx->tok.kind == T_OP && strchr("*/%", lx->tok.text[0])) {
		char c = lx->tok.text[0];
		next(lx);
		if (primary(lx, pg) != 0)
			return -1;
		if (emit(pg, c == '*' ? OP_MUL : c == '/' ? OP_DIV : OP_MOD, 0) != 0)
			return -1;
	}
	return 0;
}

static int expr(struct lexer *lx, struct program *pg)
{
	if (term(lx, pg) != 0)
		return -1;
	while (lx->tok.kind == T_OP && (lx->tok.text[0] == '+' || lx->tok.text[0] == '-')) {
		char c = lx->tok.text[0];
		next(lx);
		if (term(lx, pg) != 0)
			return -1;
		if (emit(pg, c == '+' ? OP_ADD : OP_SUB, 0) != 0)
			return -1;
	}
	return 0;
}

/* statement compiles one line: `NAME = EXPR` or `print EXPR`. */
static int statement(const char *line, struct program *pg)
{
	struct lexer lx = { .p = line };
	pg->len = 0;
	next(&lx);
	if (lx.tok.kind == T_END)
		return emit(pg, OP_HALT, 0);
	if (lx.tok.kind == T_PRINT) {
		next(&lx);
		if (expr(&lx, pg) != 0 || emit(pg, OP_PRINT, 0) != 0)
			return -1;
	} else if (lx.tok.kind == T_NAME) {
		long i = name_index(pg, lx.tok.text);
		next(&lx);
		if (i < 0 || lx.tok.kind != T_OP || lx.tok.text[0] != '=')
			return -1;
		next(&lx);
		if (expr(&lx, pg) != 0 || emit(pg, OP_STORE, i) != 0)
			return -1;
	} else {
		return -1;
	}
	return lx.tok.kind == T_END ? emit(pg, OP_HALT, 0) : -1;
}

static int execute(const struct program *pg, struct table *vars)
{
	long stack[64];
	int sp = 0;
	for (int pc = 0; pc < pg->len; pc++) {
		const struct insn *in = &pg->code[pc];
		long a, b;
		if (sp >= 64)
			return -1;
		switch (in->op) {
		case OP_PUSH:
			stack[sp++] = in->arg;
			break;
		case OP_LOAD: {
			struct entry *e = lookup(vars, pg->names[in->arg], 0);
			stack[sp++] = e ? e->value : 0;
			break;
		}
		case OP_STORE: {
			struct entry *e = lookup(vars, pg->names[in->arg], 1);
			if (e == NULL || sp < 1)
				return -1;
			e->value = stack[--sp];
			break;
		}
		case OP_NEG:
			if (sp < 1)
				return -1;
			stack[sp - 1] = -stack[sp - 1];
			break;
		case OP_PRINT:
			if (sp < 1)
				return -1;
			printf("%ld\n", stack[--sp]);
			break;
		case OP_HALT:
			return 0;
		default:
			if (sp < 2)
				return -1;
			b = stack[--sp];
			a = stack[--sp];
			if ((in->op == OP_DIV || in->op == OP_MOD) && b == 0)
				return -1;
			stack[sp++] = in->op == OP_ADD ? a + b : in->op == OP_SUB ? a - b
				: in->op == OP_MUL ? a * b : in->op == OP_DIV ? a / b : a % b;
		}
	}
	return 0;
}

/* merge_sort sorts n entry pointers by key, using tmp as scratch. */
static void merge_sort(struct entry **v, struct entry **tmp, size_t n)
{
	if (n < 2)
		return;
	size_t mid = n / 2;
	merge_sort(v, tmp, mid);
	merge_sort(v + mid, tmp, n - mid);
	size_t i = 0, j = mid, k = 0;
	while (i < mid && j < n)
		tmp[k++] = strcmp(v[i]->key, v[j]->key) <= 0 ? v[i++] : v[j++];
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static void dump(struct table *vars)
{
	struct entry *v[TABLE_SIZE], *tmp[TABLE_SIZE];
	size_t n = 0;
	for (int i = 0; i < TABLE_SIZE; i++)
		if (vars->slots[i].used)
			v[n++] = &vars->slots[i];
	merge_sort(v, tmp, n);
	for (size_t i = 0; i < n; i++)
		printf("%s = %ld\n", v[i]->key, v[i]->value);
}

int main(void)
{
	static struct table vars;
	static struct program pg;
	char line[512];
	int lineno = 0;
	while (fgets(line, sizeof line, stdin) != NULL) {
		lineno++;
		if (statement(line, &pg) != 0 || execute(&pg, &vars) != 0) {
			fprintf(stderr, "line %d: error\n", lineno);
			return 1;
		}
	}
	dump(&vars);
	return 0;
}
