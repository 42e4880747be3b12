/*
 * commentary.c - the inline-commentary check: a modified problem that
 * talks about its own clarity, completeness or consistency ("it is not
 * specified whether...", "the statement does not say...", "this can be
 * read in two ways", "which contradicts the constraint above") instead of
 * simply being ambiguous.  A model trained on such text learns to narrate
 * the ambiguity rather than to ask about it.
 *
 * Written by hand: no library parses English, and this needs only a
 * little of it.  The text is cut into clauses (at . ? ! ; : brackets and
 * line breaks); in each, a word of a clarity predicate (specified, unclear,
 * say, interpreted, contradicts, ambiguity...) is looked at with the
 * auxiliaries before it (is not, does not, can be, has never been), the
 * subject before those (the statement, it, this, which, a whether-clause,
 * or a noun of the problem's own world), and what follows (whether...,
 * in two ways, either... or).  A predicate about what the text says is
 * commentary whatever its subject; one that a problem can state about
 * its own objects ("a pair is ambiguous if...", "the array is not given
 * to you", "print -1 if the answer is undefined") counts only with a
 * subject that is the text itself.  Words in quotes or in capitals
 * ("print AMBIGUOUS") are output, not commentary, and a phrase the
 * original has too is the problem's own.
 *
 * One pass over the tokens the other checks made, with a table lookup per
 * token; the clause work runs only where a predicate word is.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"

/* word classes */
#define C_BE      (1ULL << 0)   /* is, are, remains, seems */
#define C_NEG     (1ULL << 1)   /* not, never, nowhere; and contractions */
#define C_DO      (1ULL << 2)   /* does, do, did */
#define C_HAVE    (1ULL << 3)   /* has, have, had */
#define C_MODAL   (1ULL << 4)   /* can, could, may, might */
#define C_ADV     (1ULL << 5)   /* skipped between the parts of a predicate */
#define C_APOS    (1ULL << 6)   /* the ' and t of doesn't */
#define C_SAY     (1ULL << 7)   /* say, specify (after does not, fails to) */
#define C_SAYS    (1ULL << 8)   /* says, specifies (after never, nowhere) */
#define C_SAYING  (1ULL << 9)   /* specifying (after without) */
#define C_ADJN    (1ULL << 10)  /* specified, stated: with a negation */
#define C_ADJG    (1ULL << 11)  /* given, provided, defined: with a negation, about the text */
#define C_ADJW    (1ULL << 12)  /* known, determined: with a negation and a whether-clause */
#define C_UNC     (1ULL << 13)  /* unclear, unspecified, vague */
#define C_UNCW    (1ULL << 14)  /* undefined, unknown: about the text only */
#define C_INTERP  (1ULL << 15)  /* interpreted, read, understood */
#define C_MEAN    (1ULL << 16)  /* mean, refer */
#define C_WAYS    (1ULL << 17)  /* ways, interpretations, readings */
#define C_MANY    (1ULL << 18)  /* two, several, multiple, different */
#define C_AMB     (1ULL << 19)  /* ambiguity, vagueness, interpretation */
#define C_CONFL   (1ULL << 20)  /* contradicts, conflicts, inconsistent */
#define C_LEAVE   (1ULL << 21)  /* leaves, left */
#define C_IF      (1ULL << 22)  /* if, when, unless */
#define C_SELF    (1ULL << 23)  /* statement, problem, description, example */
#define C_META    (1ULL << 24)  /* bound, limit, constraint, format, meaning */
#define C_PRON    (1ULL << 25)  /* it, this, which, there */
#define C_WH      (1ULL << 26)  /* whether, how, what, which */
#define C_INFO    (1ULL << 27)  /* information, indication, mention */
#define C_NO      (1ULL << 28)  /* no */
#define C_MISSING (1ULL << 29)  /* missing, omitted, absent */
#define C_FAIL    (1ULL << 30)  /* fails, neglects */
#define C_TO      (1ULL << 31)  /* to */
#define C_WITHOUT (1ULL << 32)  /* without */
#define C_EITHER  (1ULL << 33)  /* either, or, differently, both */
#define C_OPEN    (1ULL << 34)  /* open */
#define C_UP      (1ULL << 35)  /* up */
#define C_DEPEND  (1ULL << 36)  /* depending, depends */
#define C_READER  (1ULL << 38)  /* reader, solver, you, interpretation, discretion */
#define C_CLEAR   (1ULL << 39)  /* clear, obvious: with a subject that is the text */
#define C_INORIG  (1ULL << 40)  /* the problem's own when the original has the word */
#define C_SILENT  (1ULL << 41)  /* silent: with a subject that is the text */
#define C_MATCH   (1ULL << 42)  /* match, agree: negated, of parts of the text */
#define C_PLACE   (1ULL << 43)  /* input, query, file: "not specified in the input" is data */
#define C_WHERE   (1ULL << 44)  /* above, below, following: a part of the text */
#define C_PHRASE  (1ULL << 45)  /* phrased, worded: before "loosely", "vaguely" */
#define C_ADJB    (1ULL << 46)  /* bounded, limited: negated, of the text's bounds */
#define C_HOLD    (1ULL << 47)  /* hold, apply, add (up): "cannot both hold" */
#define C_AGAINST (1ULL << 48)  /* against, odds: "goes against", "at odds with" */
#define C_INTERPN (1ULL << 49)  /* interpretations: "several interpretations" */
#define C_DIFF    (1ULL << 50)  /* different, conflicting: "two different limits" */
#define C_DIFFLY  (1ULL << 51)  /* differently, inconsistently: "stated differently" */
#define C_ALLOW   (1ULL << 52)  /* allows, permits: "longer than this limit allows" */
#define C_WRONG   (1ULL << 53)  /* wrong, incorrect: "one of the two must be wrong" */
#define C_RIGHT   (1ULL << 54)  /* right, correct: "cannot both be right" */
#define C_DIFFER  (1ULL << 55)  /* differs: "differs from the one in the story" */
#define C_DECIDE  (1ULL << 56)  /* decide, judge: "for the reader to decide" */
#define C_CONSIST (1ULL << 57)  /* consistently: "not used consistently in the statement" */
#define C_FIXV    (1ULL << 58)  /* fixes, bounds: "nothing here fixes how many" */
#define C_NOTHING (1ULL << 59)  /* nothing: "nothing here fixes how many" */
#define C_BOTH    (1ULL << 60)  /* both: "cannot both be right" */
#define C_READERX (1ULL << 61)  /* reader, solver (not you): "for the reader to decide" */

#define C_CUE (C_SAY | C_SAYS | C_SAYING | C_ADJN | C_ADJG | C_ADJW | C_UNC | C_UNCW | C_INTERP | \
	       C_MEAN | C_AMB | C_CONFL | C_LEAVE | C_INFO | C_MISSING | C_DEPEND | \
	       C_CLEAR | C_SILENT | C_MATCH | C_ADJB | C_HOLD | C_AGAINST | C_INTERPN | C_DIFF | \
	       C_DIFFLY | C_ALLOW | C_WRONG | C_DIFFER | C_CONSIST | C_NOTHING | C_BOTH | C_READERX)
#define C_AUX (C_BE | C_NEG | C_DO | C_HAVE | C_MODAL)

struct lex {
	const char *words;   /* space-separated */
	uint64_t cls;
};

static const struct lex lexicon[] = {
	{ "is are was were be been being remains remain remained seems seem seemed appears appear "
	  "appeared stays stay becomes become s re", C_BE },
	{ "not never nowhere nor nothing", C_NEG },
	{ "does do did", C_DO },
	{ "doesn don didn", C_DO | C_NEG },
	{ "doesn\xe2\x80\x99t don\xe2\x80\x99t didn\xe2\x80\x99t", C_DO | C_NEG },
	{ "isn aren wasn weren", C_BE | C_NEG },
	{ "isn\xe2\x80\x99t aren\xe2\x80\x99t wasn\xe2\x80\x99t weren\xe2\x80\x99t", C_BE | C_NEG },
	{ "cannot can\xe2\x80\x99t", C_MODAL | C_NEG },
	{ "has have had hasn haven", C_HAVE },
	{ "can could may might would will must should", C_MODAL },
	{ "entirely fully completely explicitly clearly precisely really quite very exactly "
	  "specifically directly deliberately intentionally purposely purposefully actually always "
	  "necessarily particularly yet also further anywhere truly properly formally strictly "
	  "totally exhaustively adequately sufficiently unambiguously expressly definitively "
	  "currently still here made kept somewhat rather otherwise therefore thus however "
	  "honestly admittedly unfortunately currently even only ever", C_ADV },
	{ "t", C_APOS },
	{ "say specify state mention define clarify indicate tell explain describe detail give "
	  "provide address cover stipulate spell establish reveal list settle pin determine",
	  C_SAY },
	{ "says specifies states mentions defines clarifies indicates tells explains describes "
	  "details gives provides addresses covers stipulates establishes reveals lists settles "
	  "said pins", C_SAYS },
	{ "saying specifying stating mentioning defining clarifying indicating explaining "
	  "describing detailing", C_SAYING },
	{ "specified stated mentioned explained clarified indicated explicit described detailed "
	  "addressed spelled established stipulated elaborated said pinned covered", C_ADJN },
	{ "match matches agree agrees correspond corresponds align aligns fit fits respect "
	  "respects follow obey obeys satisfy satisfies meet meets honour honor conform conforms "
	  "comply complies", C_MATCH },
	{ "different differing conflicting contradicting competing", C_DIFF },
	{ "differently inconsistently", C_DIFFLY },
	{ "allows permits allow permit", C_ALLOW },
	{ "input query queries file test request data array list set string graph tree table "
	  "matrix line lines", C_PLACE },
	{ "above below earlier later following preceding follows precedes aforementioned rest "
	  "shown", 
	  C_WHERE },
	{ "phrased worded formulated written described expressed defined stated given", C_PHRASE },
	{ "bounded limited restricted capped quantified constrained", C_ADJB },
	{ "hold apply add", C_HOLD },
	{ "against odds", C_AGAINST },
	{ "given provided defined", C_ADJG },
	{ "known determined certain fixed settled decided", C_ADJW },
	{ "clear obvious evident apparent precise", C_CLEAR },
	{ "wrong incorrect mistaken erroneous", C_WRONG },
	{ "right correct valid true accurate", C_RIGHT },
	{ "differ differs differed", C_DIFFER },
	{ "decide judge choose guess", C_DECIDE },
	{ "consistently consistent", C_CONSIST },
	{ "fixes bounds determines limits constrains settles", C_FIXV },
	{ "nothing", C_NOTHING },
	{ "both", C_BOTH },
	{ "reader readers solver solvers programmer programmers contestant contestants implementer",
	  C_READERX },
	{ "unclear unspecified unstated vague vaguely underspecified unexplained unmentioned "
	  "imprecise imprecisely debatable murky fuzzy undescribed unaddressed unclarified "
	  "unresolved unanswered undecided unsettled nebulous equivocal unsaid loosely loose",
	  C_UNC },
	{ "ambiguous ambiguously", C_UNC | C_INORIG },
	{ "undefined uncertain unknown indeterminate undetermined arbitrary", C_UNCW | C_INORIG },
	{ "silent", C_SILENT },
	{ "interpreted read understood construed viewed parsed taken interpret understand "
	  "construe", C_INTERP },
	{ "mean means refer refers", C_MEAN },
	{ "ways way interpretations readings meanings senses", C_WAYS },
	{ "two multiple several different various many more", C_MANY },
	{ "ambiguity ambiguities vagueness unclarity underspecification", C_AMB | C_INORIG },
	{ "interpretation interpretations readings", C_INTERPN | C_INORIG },
	{ "contradicts contradict contradicting contradictory contradiction contradictions "
	  "conflicts conflict conflicting clashes clash disagrees disagree inconsistent "
	  "incompatible inconsistency inconsistencies discrepancy discrepancies mismatch "
	  "contrary", C_CONFL | C_INORIG },
	{ "leaves leave leaving", C_LEAVE },
	{ "left", C_LEAVE },
	{ "if when unless whenever iff", C_IF },
	{ "problem statement task description text wording prompt specification spec "
	  "formulation phrasing story narrative passage paragraph sentence section instructions "
	  "legend example examples sample samples input output statements sentences "
	  "descriptions wordings remark remarks explanation explanations", C_SELF },
	{ "bound bounds limit limits constraint constraints range format information details "
	  "detail meaning definition sense notion term word phrase condition requirement "
	  "requirements rule rules guarantee guarantees maximum minimum precise exact expected "
	  "behaviour behavior tie handling upper lower modulus count counts total "
	  "totals length lengths", C_META },
	{ "it this that there these those", C_PRON },
	{ "whether how what which who when where why", C_WH },
	{ "information indication mention specification guidance clarification hint "
	  "explanation", C_INFO },
	{ "definition", C_INFO },
	{ "no", C_NO },
	{ "missing omitted absent lacking lacks", C_MISSING },
	{ "fails fail failed neglects neglect omits", C_FAIL },
	{ "to", C_TO },
	{ "without", C_WITHOUT },
	{ "either or both differently", C_EITHER },
	{ "open", C_OPEN },
	{ "up", C_UP },
	{ "depending depends", C_DEPEND },
	{ "reader readers solver solvers you interpretation discretion imagination programmer "
	  "contestant implementer judgment judgement guesswork", C_READER },
};

/* word hash -> classes, open addressing, built once */
struct lexent {
	uint64_t h, cls;
};

#define LEX_CAP 2048
#define LEX_BLOOM 4096
static struct lexent lex_tab[LEX_CAP];
static uint64_t lex_bloom[LEX_BLOOM / 64];  /* most words are in no class: one load says so */
static uint64_t cue_bloom[LEX_BLOOM / 64];  /* and in no predicate's */
static pthread_once_t lex_once = PTHREAD_ONCE_INIT;
static uint64_t h_which, h_if, h_the, h_each, h_other, h_to, h_as, h_one, h_way, h_than;
static uint64_t h_open, h_there, h_it, h_about, h_on, h_regarding, h_of, h_for, h_here;
static uint64_t h_in, h_reading, h_up, h_interpretation, h_apos, h_left, h_by, h_both;
static uint64_t h_at, h_goes, h_go, h_runs, h_run, h_may, h_or, h_anywhere, h_explicitly;
static uint64_t h_definition, h_add, h_true, h_a, h_any, h_another, h_out;
static uint64_t h_be, h_with, h_from, h_otherwise;

static uint64_t wh(const char *w)
{
	return filter_word_hash(w, strlen(w));
}

static void lex_add(const char *w, size_t n, uint64_t cls)
{
	uint64_t h = filter_word_hash(w, n);
	size_t i = (size_t)(h ^ (h >> 29)) & (LEX_CAP - 1);

	while (lex_tab[i].h && lex_tab[i].h != h)
		i = (i + 1) & (LEX_CAP - 1);
	lex_tab[i].h = h;
	lex_tab[i].cls |= cls;
	lex_bloom[(h >> 52) / 64] |= 1ULL << ((h >> 52) % 64);
	if (cls & C_CUE)
		cue_bloom[(h >> 52) / 64] |= 1ULL << ((h >> 52) % 64);
}

static void lex_init(void)
{
	for (size_t k = 0; k < CL_ARRAY_SIZE(lexicon); k++) {
		const char *p = lexicon[k].words;

		while (*p) {
			size_t n = strcspn(p, " ");

			lex_add(p, n, lexicon[k].cls);
			p += n;
			while (*p == ' ')
				p++;
		}
	}
	h_apos = filter_word_hash("'", 1);
	lex_add("'", 1, C_APOS);
	h_which = wh("which");
	h_if = wh("if");
	h_the = wh("the");
	h_each = wh("each");
	h_other = wh("other");
	h_to = wh("to");
	h_as = wh("as");
	h_one = wh("one");
	h_way = wh("way");
	h_than = wh("than");
	h_open = wh("open");
	h_there = wh("there");
	h_it = wh("it");
	h_about = wh("about");
	h_on = wh("on");
	h_regarding = wh("regarding");
	h_of = wh("of");
	h_for = wh("for");
	h_here = wh("here");
	h_in = wh("in");
	h_reading = wh("reading");
	h_up = wh("up");
	h_interpretation = wh("interpretation");
	h_left = wh("left");
	h_by = wh("by");
	h_both = wh("both");
	h_at = wh("at");
	h_goes = wh("goes");
	h_go = wh("go");
	h_runs = wh("runs");
	h_run = wh("run");
	h_may = wh("may");
	h_or = wh("or");
	h_anywhere = wh("anywhere");
	h_explicitly = wh("explicitly");
	h_definition = wh("definition");
	h_add = wh("add");
	h_true = wh("true");
	h_a = wh("a");
	h_any = wh("any");
	h_another = wh("another");
	h_out = wh("out");
	h_be = wh("be");
	h_with = wh("with");
	h_from = wh("from");
	h_otherwise = wh("otherwise");
}

static uint64_t lex_get(uint64_t h)
{
	size_t i = (size_t)(h ^ (h >> 29)) & (LEX_CAP - 1);

	if (!(lex_bloom[(h >> 52) / 64] & (1ULL << ((h >> 52) % 64))))
		return 0;
	while (lex_tab[i].h && lex_tab[i].h != h)
		i = (i + 1) & (LEX_CAP - 1);
	return lex_tab[i].cls;
}

/* ---- one clause ------------------------------------------------------------ */

struct clause {
	struct check_ctx *c;
	const struct toks *t;
	const char *text;
	const uint64_t *cls;
	size_t a, b;                 /* its tokens [a, b) */
};

enum subject { SUBJ_NONE, SUBJ_DOMAIN, SUBJ_PRON, SUBJ_WH, SUBJ_META, SUBJ_SELF, SUBJ_QUOTE };

/* A subject that is the text or a part or word of it: "the statement",
 * "the bound on n", "whether ...", "'too many'". */
#define TEXTY(s) ((s) == SUBJ_SELF || (s) == SUBJ_META || (s) == SUBJ_WH || (s) == SUBJ_QUOTE)

static uint64_t hash_at(const struct clause *k, size_t i)
{
	return k->t->v[i].h;
}

static int is_punct(const struct clause *k, size_t i, char ch)
{
	return k->t->v[i].len == 1 && k->text[k->t->v[i].off] == ch;
}

/* The auxiliaries before word i (is not, does not, can be, has never been),
 * skipping adverbs: their classes, and where they start. */
static uint64_t aux_chain(const struct clause *k, size_t i, size_t *start)
{
	uint64_t seen = 0;
	size_t j = i;

	*start = i;
	while (j > k->a) {
		uint64_t x = k->cls[j - 1];

		if (x & (C_ADV | C_APOS)) {
			j--;
			continue;
		}
		if (x & C_AUX) {
			seen |= x & C_AUX;
			*start = --j;
			continue;
		}
		break;
	}
	return seen;
}

/* What the predicate that starts at token start is said of. */
static enum subject subject_of(const struct clause *k, size_t start)
{
	size_t j = start, seg = k->a;
	enum subject s = SUBJ_DOMAIN;

	while (j > k->a && ((k->cls[j - 1] & (C_ADV | C_APOS)) || is_punct(k, j - 1, ',')))
		j--;
	if (j == k->a)
		return SUBJ_NONE;
	if (k->cls[j - 1] & C_PRON || hash_at(k, j - 1) == h_which)
		return SUBJ_PRON;
	/* "'too many' is not quantified": a word of the text, quoted */
	if (is_punct(k, j - 1, '"') || is_punct(k, j - 1, '\'') ||
	    (k->t->v[j - 1].len >= 3 && memcmp(k->text + k->t->v[j - 1].off + k->t->v[j - 1].len - 3,
					       "\xe2\x80\x9d", 3) == 0))
		return SUBJ_QUOTE;
	/* the noun phrase: from the last comma before the predicate */
	for (size_t i = j; i > k->a; i--)
		if (is_punct(k, i - 1, ',')) {
			seg = i;
			break;
		}
	/* "which" opens a question at the clause's start, a relative clause later */
	if (k->cls[seg] & C_WH && (hash_at(k, seg) != h_which || seg == k->a))
		return SUBJ_WH;
	for (size_t i = seg; i < j; i++) {
		if (k->cls[i] & C_SELF)
			return SUBJ_SELF;
		if (k->cls[i] & C_META)
			s = SUBJ_META;
	}
	return s;
}

/* The first word after token i, past adverbs, commas and the prepositions
 * of "unclear about / as to / on / regarding": its index, or k->b. */
static size_t next_word(const struct clause *k, size_t i)
{
	size_t j = i + 1;

	while (j < k->b) {
		uint64_t h = hash_at(k, j);

		if ((k->cls[j] & (C_ADV | C_APOS)) || is_punct(k, j, ',') || h == h_about ||
		    h == h_as || h == h_to || h == h_on || h == h_regarding || h == h_of ||
		    h == h_for || h == h_in)
			j++;
		else
			break;
	}
	return j;
}

static int wh_after(const struct clause *k, size_t i)
{
	size_t j = next_word(k, i);

	return j < k->b && (k->cls[j] & C_WH || hash_at(k, j) == h_if);
}

/* A condition (if, when, unless) earlier in the comma-separated part of
 * the clause that holds token i: "print -1 if the answer is undefined". */
static int in_condition(const struct clause *k, size_t i)
{
	for (size_t j = i; j > k->a; j--) {
		if (is_punct(k, j - 1, ','))
			return 0;
		if (!(k->cls[j - 1] & C_IF))
			continue;
		/* "the behaviour when ...", "what to print if ..." is a subject */
		if (j - 1 > k->a && (k->cls[j - 2] & (C_META | C_SELF)))
			return 0;
		for (size_t w = k->a; w < j - 1; w++)
			if (k->cls[w] & C_WH)
				return 0;
		return 1;
	}
	return 0;
}

/* Token i is the last of its clause but for closing punctuation. */
static int at_end(const struct clause *k, size_t i)
{
	size_t j = next_word(k, i);
	unsigned char ch;

	if (j >= k->b)
		return 1;
	ch = (unsigned char)k->text[k->t->v[j].off];
	return k->t->v[j].len == 1 && ch < 0x80 && !((ch >= 'a' && ch <= 'z') ||
						      (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'));
}

/* "no upper bound is given": a no before the subject's noun */
static int no_before(const struct clause *k, size_t start)
{
	for (size_t j = start; j > k->a && j + 4 > start; j--)
		if (k->cls[j - 1] & C_NO)
			return 1;
	return 0;
}

/* A word of the text itself anywhere in the clause: statement, example,
 * the rest, above, below. */
static int self_in_clause(const struct clause *k, size_t i)
{
	for (size_t j = k->a; j < k->b; j++)
		if (j != i && k->cls[j] & (C_SELF | C_WHERE))
			return 1;
	return 0;
}

/* A part of the text in the clause that is not where data goes: "the
 * story", "the formal statement", "above" (not "the input"). */
static int part_in_clause(const struct clause *k, size_t i)
{
	for (size_t j = k->a; j < k->b; j++)
		if (j != i && ((k->cls[j] & C_WHERE) || ((k->cls[j] & C_SELF) && !(k->cls[j] & C_PLACE))))
			return 1;
	return 0;
}

/* A negation anywhere in the clause before token i. */
static int neg_before(const struct clause *k, size_t i)
{
	for (size_t j = k->a; j < i; j++)
		if (k->cls[j] & C_NEG)
			return 1;
	return 0;
}

/* "in two ways", "differently", "either ... or", "as A or B", "more than one way" */
static int ways_after(const struct clause *k, size_t i)
{
	int as = 0;

	for (size_t j = i + 1; j < k->b && j < i + 10; j++) {
		uint64_t x = k->cls[j];

		if (x & C_EITHER)
			return 1;
		if ((x & C_MANY) && j + 1 < k->b && (k->cls[j + 1] & C_WAYS))
			return 1;
		if ((x & C_MANY) && j + 3 < k->b && hash_at(k, j + 1) == h_than &&
		    hash_at(k, j + 2) == h_one && hash_at(k, j + 3) == h_way)
			return 1;
		if (hash_at(k, j) == h_as)
			as = 1;
		if (as && (x & C_EITHER))
			return 1;
	}
	return 0;
}

/* Whether the word (or the three words ending with it) is the original's. */
static int in_original(const struct clause *k, size_t i, int word_only)
{
	const struct toks *o = k->c->orig;

	for (size_t j = 0; j < o->n; j++) {
		if (o->v[j].h != hash_at(k, i))
			continue;
		if (word_only)
			return 1;
		if (i >= k->t->n || i < 2 || j < 2)
			continue;
		if (o->v[j - 1].h == hash_at(k, i - 1) && o->v[j - 2].h == hash_at(k, i - 2))
			return 1;
	}
	return 0;
}

/* In quotes or capitals: a word the problem prints, not a remark. */
static int is_literal(const struct clause *k, size_t i)
{
	const struct tok *t = &k->t->v[i];
	const unsigned char *p = (const unsigned char *)k->text + t->off;
	int caps = t->len >= 2;

	for (uint32_t j = 0; j < t->len && caps; j++)
		caps = p[j] >= 'A' && p[j] <= 'Z';
	if (caps)
		return 1;
	if (t->off > 0 && t->off + t->len < k->t->len) {
		unsigned char before = p[-1], after = p[t->len];

		if ((before == '"' || before == '\'' || before == '`') && before == after)
			return 1;
	}
	return 0;
}

/* Is token i, a predicate word, commentary?  0 or 1. */
static int judge(const struct clause *k, size_t i)
{
	uint64_t x = k->cls[i], aux;
	size_t start, j;
	enum subject s;

	aux = aux_chain(k, i, &start);
	/* "does not seem to match", "do not appear to say": the chain goes on
	 * before the to */
	if (!(aux & C_NEG) && start == i && i > k->a + 1 && hash_at(k, i - 1) == h_to) {
		size_t st2;
		uint64_t aux2 = aux_chain(k, i - 1, &st2);

		if (aux2 & C_NEG) {
			aux |= aux2;
			start = st2;
		}
	}
	s = subject_of(k, start);
	/* "no upper bound is given": for the predicates of what is said */
	if (!(aux & C_NEG) && (x & (C_ADJN | C_ADJG | C_ADJB)) && (s == SUBJ_META || s == SUBJ_SELF) &&
	    no_before(k, start))
		aux |= C_NEG;
	if (x & (C_SAY | C_SAYS)) {
		int neg = (aux & C_NEG) && ((aux & C_DO) || (x & C_SAYS) || (aux & C_MODAL));

		/* fails to specify */
		if (!neg && i >= k->a + 2 && hash_at(k, i - 1) == h_to && (k->cls[i - 2] & C_FAIL)) {
			neg = 1;
			s = subject_of(k, i - 2);
		}
		if (neg && s != SUBJ_DOMAIN)
			return 1;
	}
	if (x & C_SAYING && i > k->a && (k->cls[i - 1] & C_WITHOUT) && wh_after(k, i))
		return 1;
	if (x & (C_ADJN | C_ADJG | C_ADJW | C_CLEAR) && (aux & C_NEG) && (aux & (C_BE | C_HAVE))) {
		/* "a value not specified in the input": what the data holds */
		if (i + 2 < k->b && (hash_at(k, i + 1) == h_in || hash_at(k, i + 1) == h_by)) {
			j = i + 2 + (hash_at(k, i + 2) == h_the && i + 3 < k->b);
			if (j < k->b && (k->cls[j] & C_PLACE))
				return 0;
		}
		if (x & C_ADJN)
			return 1;
		if (x & C_ADJG) {
			if (TEXTY(s) || wh_after(k, i) || at_end(k, i) || hash_at(k, i + 1) == h_here || hash_at(k, i + 1) == h_about ||
			    hash_at(k, i + 1) == h_for || hash_at(k, i + 1) == h_regarding ||
			    self_in_clause(k, i))
				return 1;
		}
		if (x & C_CLEAR && (s != SUBJ_DOMAIN || wh_after(k, i)))
			return 1;
		if (x & C_ADJW && TEXTY(s))
			return 1;
	}
	if (x & C_UNC && (aux & C_BE) && !(aux & C_NEG)) {
		/* "a pair is ambiguous if ..." defines a word of the problem;
		 * "it is unclear if ..." is a whether */
		if (!(s != SUBJ_PRON && i + 1 < k->b && (k->cls[i + 1] & C_IF)))
			return 1;
	}
	if (x & C_UNC && i + 1 < k->b && (k->cls[i + 1] & (C_SELF | C_META)))
		return 1;                           /* "the vague wording", "an unclear bound" */
	if (x & C_ADJB && (aux & C_NEG) && (aux & (C_BE | C_HAVE))) {
		if (TEXTY(s))
			return 1;
		for (j = i + 1; j < k->b; j++)
			if (hash_at(k, j) == h_anywhere || hash_at(k, j) == h_explicitly ||
			    hash_at(k, j) == h_here)
				return 1;
	}
	if (x & C_UNC && !(aux & C_BE) && i > k->a) {
		size_t st, p = i - 1;

		/* "phrased loosely", "is worded vaguely", "is stated only loosely" */
		while (p > k->a && (k->cls[p] & C_ADV) && !(k->cls[p] & C_PHRASE))
			p--;
		if ((k->cls[p] & C_PHRASE) && (aux_chain(k, p, &st) & C_BE))
			return 1;
	}
	if (x & C_UNCW && (aux & C_BE) && !(aux & C_NEG) &&
	    (TEXTY(s) || (s == SUBJ_PRON && wh_after(k, i))))
		return 1;
	if (x & C_SILENT && (aux & C_BE) && s == SUBJ_SELF)
		return 1;
	if (x & C_INTERP && (aux & C_MODAL) && ways_after(k, i))
		return 1;
	if (x & C_INTERP && !(aux & C_MODAL)) {
		/* "one could read it two ways": the modal before the object */
		for (j = i; j > k->a && j + 4 > i; j--)
			if (k->cls[j - 1] & C_MODAL) {
				if (ways_after(k, i))
					return 1;
				break;
			}
	}
	if (x & C_MEAN && (aux & C_MODAL) && ways_after(k, i))
		return 1;
	/* "may or may not mean" */
	if (x & C_MEAN && (aux & C_MODAL) && (aux & C_NEG) && start >= k->a + 2 &&
	    hash_at(k, start - 1) == h_or && hash_at(k, start - 2) == h_may)
		return 1;
	/* "cannot both hold", "does not add up" */
	if (x & C_HOLD && i > k->a + 1 && hash_at(k, i - 1) == h_both &&
	    (aux_chain(k, i - 1, &j) & C_NEG))
		return 1;
	if (x & C_HOLD && (aux & C_NEG)) {
		if (hash_at(k, i) == h_add && i + 1 < k->b && hash_at(k, i + 1) == h_up && at_end(k, i + 1))
			return 1;
	}
	if (x & C_HOLD && hash_at(k, i) != h_add && i > k->a + 1 && hash_at(k, i - 1) == h_true &&
	    hash_at(k, i - 2) == h_both)
		return 1;
	/* "goes against the examples", "at odds with the statement" */
	if (x & C_AGAINST && i > k->a) {
		uint64_t h = hash_at(k, i - 1);

		if ((h == h_goes || h == h_go || h == h_runs || h == h_run || h == h_at) &&
		    (self_in_clause(k, i) || s == SUBJ_PRON || s == SUBJ_META))
			return 1;
	}
	if (x & C_AMB)
		return 1;
	/* "two interpretations", "more than one reading", "another interpretation" */
	if (x & C_INTERPN) {
		for (j = i; j > k->a && j + 4 > i; j--)
			if (k->cls[j - 1] & (C_MANY | C_EITHER) || hash_at(k, j - 1) == h_another)
				return 1;
	}
	if (x & C_CONFL && (s == SUBJ_PRON || s == SUBJ_SELF || s == SUBJ_META ||
			    self_in_clause(k, i)))
		return 1;
	if (x & C_LEAVE) {
		int active = (k->cls[i] & C_LEAVE) && hash_at(k, i) != h_left;

		if (!active && !(aux & (C_BE | C_HAVE)))
			return 0;
		for (j = i + 1; j < k->b && j < i + 7; j++) {
			uint64_t y = k->cls[j];

			if (y & (C_UNC | C_UNCW))
				return 1;
			if (hash_at(k, j) == h_open && (wh_after(k, j) || j + 1 >= k->b ||
							(j + 1 < k->b && hash_at(k, j + 1) == h_to) ||
							s != SUBJ_DOMAIN))
				return 1;
			if ((y & C_TO || hash_at(k, j) == h_up) && j + 1 < k->b) {
				size_t w = j + 1;

				if (w < k->b && (hash_at(k, w) == h_the || hash_at(k, w) == h_to))
					w++;
				if (w < k->b && (k->cls[w] & C_READER))
					return 1;
			}
		}
	}
	if (x & C_INFO && i > k->a && (k->cls[i - 1] & C_NO))
		return 1;
	/* "stated differently in two places", "described inconsistently" */
	if (x & C_DIFFLY && i > k->a && (k->cls[i - 1] & (C_ADJN | C_ADJG | C_PHRASE)))
		return 1;
	/* "two different limits ... in this statement", "give different counts" */
	if (x & C_DIFF && i + 1 < k->b && (k->cls[i + 1] & C_META) && self_in_clause(k, i + 1))
		return 1;
	/* "longer than this limit allows" */
	if (x & C_ALLOW && (s == SUBJ_META || s == SUBJ_SELF || s == SUBJ_PRON)) {
		for (j = i; j > k->a && j + 6 > i; j--)
			if (hash_at(k, j - 1) == h_than) {
				for (size_t w = k->a; w < k->b; w++)
					if (k->cls[w] & (C_SELF | C_META) && w != i)
						return 1;
				break;
			}
	}
	/* "is left out here" */
	if (x & C_LEAVE && hash_at(k, i) == h_left && (aux & C_BE) && i + 1 < k->b &&
	    hash_at(k, i + 1) == h_out && (TEXTY(s) || (i + 2 < k->b && hash_at(k, i + 2) == h_here)))
		return 1;
	/* "without a definition of ..." */
	if (hash_at(k, i) == h_definition && i > k->a + 1 && (k->cls[i - 2] & C_WITHOUT) &&
	    (hash_at(k, i - 1) == h_a || hash_at(k, i - 1) == h_any))
		return 1;
	if (x & C_MISSING && (aux & C_BE) && (s == SUBJ_SELF || s == SUBJ_META || s == SUBJ_QUOTE))
		return 1;
	if (x & C_DEPEND) {
		for (j = i + 1; j < k->b && j < i + 6; j++)
			if (k->cls[j] & (C_INTERP | C_AMB) || hash_at(k, j) == h_reading)
				return 1;
	}
	if (x & C_MATCH && (aux & C_NEG) && (s == SUBJ_SELF || s == SUBJ_META || self_in_clause(k, i)))
		return 1;
	/* "does not add up with the total stated earlier" */
	if (x & C_HOLD && hash_at(k, i) == h_add && (aux & C_NEG) && i + 2 < k->b &&
	    hash_at(k, i + 1) == h_up && (hash_at(k, i + 2) == h_with || hash_at(k, i + 2) == h_to) &&
	    (TEXTY(s) || s == SUBJ_PRON || part_in_clause(k, i)))
		return 1;
	/* "one of the two descriptions has to be wrong": a part of the text,
	 * necessarily wrong */
	if (x & C_WRONG && (aux & C_BE) && start > k->a &&
	    ((aux & C_MODAL) || hash_at(k, start - 1) == h_to) && part_in_clause(k, i))
		return 1;
	/* "... cannot both be right" */
	if (x & C_BOTH && i > k->a && i + 2 < k->b && hash_at(k, i + 1) == h_be &&
	    (k->cls[i + 2] & C_RIGHT) && (aux_chain(k, i, &j) & C_NEG))
		return 1;
	/* "differs from the one in the formal statement" */
	if (x & C_DIFFER && i + 1 < k->b && hash_at(k, i + 1) == h_from && part_in_clause(k, i))
		return 1;
	/* "is for the reader to decide", "left for the solver to judge" */
	if (x & C_READERX && i + 2 < k->b && hash_at(k, i + 1) == h_to && (k->cls[i + 2] & C_DECIDE))
		return 1;
	/* "not one the rest of the statement uses consistently" */
	if (x & C_CONSIST && neg_before(k, i) && part_in_clause(k, i))
		return 1;
	/* "says otherwise" */
	if (x & (C_SAYS | C_SAY) && i + 1 < k->b && hash_at(k, i + 1) == h_otherwise &&
	    (TEXTY(s) || part_in_clause(k, i)))
		return 1;
	/* "nothing here fixes how many", "nothing in the statement bounds how large" */
	if (x & C_NOTHING) {
		for (j = i + 1; j < k->b && j < i + 7; j++)
			if (k->cls[j] & (C_FIXV | C_SAYS) && wh_after(k, j))
				return 1;
	}
	return 0;
}

/* Report clause [a, b) of the modified problem. */
static int report(struct check_ctx *c, const struct clause *k)
{
	const struct toks *t = c->mod;
	size_t from = t->v[k->a].off, to = t->v[k->b - 1].off + t->v[k->b - 1].len;
	char why[192];

	if (to - from > 140)
		to = from + 140;
	while (to > from && ((unsigned char)k->text[to] & 0xc0) == 0x80)
		to--;
	snprintf(why, sizeof(why), "talks about its own clarity: \"%.*s%s\"", (int)(to - from),
		 k->text + from, to < t->v[k->b - 1].off + t->v[k->b - 1].len ? "..." : "");
	return c->verdict(c, "inline-commentary", FIELD_MODIFIED, why);
}

static int clause_end(const struct toks *t, const char *text, size_t i)
{
	const struct tok *k = &t->v[i];
	char ch;

	if (i + 1 < t->n) {
		/* the bytes between two tokens are white space: a newline among them? */
		for (uint32_t at = k->off + k->len; at < t->v[i + 1].off; at++)
			if (text[at] == '\n')
				return 1;
	}
	if (k->len != 1)
		return 0;
	ch = text[k->off];
	return ch == '.' || ch == '?' || ch == '!' || ch == ';' || ch == ':' || ch == '(' ||
	       ch == ')' || ch == '[' || ch == ']';
}

int check_commentary(struct check_ctx *c)
{
	const struct toks *t = c->mod;
	const char *text = c->in->modified;
	uint64_t *cls;
	size_t cue[256], ncue = 0;

	if (!text || !t->n)
		return 0;
	pthread_once(&lex_once, lex_init);
	if (*c->ncls < t->n) {
		cls = realloc(*c->cls, t->n * sizeof(*cls));
		if (!cls)
			return CL_ENOMEM;
		*c->cls = cls;
		*c->ncls = t->n;
	}
	cls = *c->cls;
	/* the predicate words first: most texts have few */
	for (size_t i = 0; i < t->n; i++) {
		uint64_t h = t->v[i].h;


		if ((cue_bloom[(h >> 52) / 64] & (1ULL << ((h >> 52) % 64))) && (lex_get(h) & C_CUE) &&
		    ncue < CL_ARRAY_SIZE(cue))
			cue[ncue++] = i;
	}
	/* each predicate word in its clause: the words back to the clause's
	 * start and on to its end (at most 80 either way), classified once */
	for (size_t q = 0, done = 0; q < ncue; q++) {
		struct clause k;
		size_t j = cue[q], a = j, b = j + 1;

		while (a > 0 && j - a < 80 && !clause_end(t, text, a - 1))
			a--;
		while (b < t->n && b - j < 80 && !clause_end(t, text, b - 1))
			b++;
		for (size_t i = a > done ? a : done; i < b; i++)
			cls[i] = lex_get(t->v[i].h);
		done = b > done ? b : done;
		k = (struct clause){ c, t, text, cls, a, b };
		if (is_literal(&k, j) || in_condition(&k, j) || !judge(&k, j))
			continue;
		/* the problem's own words: the original has the phrase (or, for
		 * words a problem may use of its objects, the word) */
		if (in_original(&k, j, (cls[j] & C_INORIG) != 0))
			continue;
		return report(c, &k);
	}
	return 0;
}
