/*
 * gen.c - bench/gen, the deterministic generator of realistic music-metadata JSONL.
 *
 * This file owns the test data that every winnow benchmark and many tests feed on:
 * Spotify-like track or artist records, as Web API objects (--layout api) or as the
 * flat rows of the 2025 metadata dump (--layout dump), with duplicates, re-ordered
 * and re-escaped copies, revisions, near-duplicate titles, shared ISRCs and bad lines
 * mixed in at chosen rates. It also knows, exactly and by construction, what a
 * correct deduplicator must report for the stream it wrote (--truth). bench/GEN.md is
 * its manual; tests/cli/t0100-gen.sh checks the truth against an independent parser.
 *
 * How exactness and constant memory are had together:
 *  - The stream is made of "new records" numbered k = 0, 1, 2, ... in the order they
 *    are first written. Everything in record k (id, title, artists, ISRC, ...) is a
 *    pure function of (seed, k), so a duplicate or a revision of record j < k is
 *    regenerated from j instead of being remembered.
 *  - Whether record k is a plain record, a near-duplicate title or an ISRC re-use is
 *    itself a pure function of (seed, k), so regenerating j regenerates its kind too.
 *  - Ids are injective in k (half of the id is a bijective mix of k), so every new
 *    record is "kept"; ISRCs of non-sharing records are injective in k as well, so the
 *    distinct ISRC count is known without a set.
 *  - A repeat only ever copies the base version of a record already written, and a
 *    revision always carries a fetched_at that no other version of that id has (base
 *    plus a global revision counter), so each repeat is a duplicate or a revision
 *    with certainty, and a revision differs from its base only in volatile fields.
 *  - An ISRC re-use points at most ISRC_WINDOW records back; a ring of that many bits
 *    tells whether the owner was already shared, which makes "tracks sharing an ISRC"
 *    exact with bounded memory.
 * Per-line choices (which kind of line, which earlier record) come from one sequential
 * stream seeded by the seed, so the same flags always give the same bytes, and the
 * first N lines of a longer run are the lines of a run with --count N.
 *
 * Speed matters more than elegance here: the generator must never be what a benchmark
 * waits on. Records are assembled with memcpy from precomputed word tables and
 * hand-written integer formatting straight into one large output buffer, which is
 * handed to write(2) in big chunks. Artists and albums, which recur, are cached.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Exit codes shared by winnow's command line tools. */
#define EXIT_USAGE 2
#define EXIT_IO 3
#define EXIT_INTERRUPTED 130

#define OUT_BUF (1u << 20)       /* bytes handed to one write(2) */
#define LINE_RESERVE (1u << 16)  /* room kept free for one line: far above the longest */
#define TITLE_MAX 512            /* titles stay under ~350 bytes (5 words, one decoration, a
                                  * feat. credit, a near-duplicate suffix): room for put_fast */
#define ANAME_MAX 64             /* artist names are at most ~35 bytes; put_fast needs 16 more */
#define ISRC_WINDOW (1u << 20)   /* an ISRC re-use points at most this many records back */
#define ACACHE 8192              /* artist cache entries (power of two) */
#define ALCACHE 64               /* album cache entries (power of two) */

enum { KIND_TRACK, KIND_ARTIST, KIND_LISTEN };
enum { LAYOUT_API, LAYOUT_DUMP };
enum { REC_PLAIN, REC_NEAR, REC_ISRC };
enum { SC_LATIN, SC_CYRILLIC, SC_CJK, SC_HANGUL, SC_ARABIC, SC_OTHER, SC_N };
enum { LN_NEW, LN_EXACT, LN_REORDER, LN_ESCAPE, LN_REVISION, LN_BAD };
enum { BAD_MALFORMED, BAD_UTF8, BAD_NOID, BAD_BINARY, BAD_EMPTY, BAD_N };

/* Hash streams: each kind of decision draws from its own key, so that changing how
 * one field is made never shifts the values of another. */
enum {
	K_LINE, K_TYPE, K_SOURCE, K_OWNER, K_CORE, K_TRACK, K_ALBUMBLK, K_ALBUM, K_ALBUMNAME,
	K_ARTIST, K_VARIANT, K_BAD, K_ID_TRACK, K_ID_ALBUM, K_ID_ARTIST, K_ID_HI,
	K_ISRC, K_SHIFT, K_N
};

/* ---------------------------------------------------------------------------------
 * Hashing and random numbers
 */

/* A bijection on 64-bit integers with good avalanche (the splitmix64 finaliser
 * constants): ids rely on it being invertible, everything else on it mixing well. */
static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Hash of record number k in stream key: one mix64 of an odd multiple of k plus the
 * key, a bijection in k for a fixed key. */
static inline uint64_t hk(uint64_t key, uint64_t k)
{
	return mix64(k * 0x9e3779b97f4a7c15ULL + key);
}

/* A tiny generator whose whole state is one word, so seeding one per record costs
 * nothing: a Weyl sequence folded through one 64x64->128 multiplication (the idea of
 * wyrand), cheaper than a full mix64 per draw. Seeds go through hk. */
struct rng {
	uint64_t s;
};

static inline struct rng rseed(uint64_t key, uint64_t k)
{
	struct rng r = { hk(key, k) };
	return r;
}

static inline uint64_t rnext(struct rng *r)
{
	r->s += 0xa0761d6478bd642fULL;
	unsigned __int128 t = (unsigned __int128)r->s * (r->s ^ 0xe7037ed1a0b428dbULL);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* Uniform in [0, n) for n < 2^32 (multiply-shift; the bias is far below noise). */
static inline uint32_t rbelow(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability pm/1000. */
static inline int rchance(struct rng *r, uint32_t pm)
{
	return rbelow(r, 1000) < pm;
}

/* Uniform in [0, n) for any 64-bit n. */
static inline uint64_t below64(uint64_t h, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)h * n) >> 64);
}

/* Roughly Zipf(1) in [0, n): a bit length is chosen uniformly, then a value of that
 * length, so P(v) falls like 1/v. A few values (popular artists, recent records) come
 * up very often and most rarely, without needing log() from libm. n >= 1. */
static inline uint64_t zipf_below(uint64_t h, uint64_t n)
{
	unsigned bits = 64 - (unsigned)__builtin_clzll(n);
	unsigned b = (unsigned)(((h & 0xffff) * bits) >> 16);
	uint64_t v = h >> 16;
	if (b > 47)
		b = 47;
	v = (((uint64_t)1 << b) | (v & (((uint64_t)1 << b) - 1))) - 1;
	if (v >= n)
		v = below64(h, n);
	return v;
}

/* ---------------------------------------------------------------------------------
 * Word tables. Strings are stored already escaped for JSON (a '"' as \", a '\' as
 * \\), so building a record is pure copying; the only escapes in normal output are
 * \" and \\, which the re-escaper and the bad-line makers rely on. At start-up every
 * table is moved into one padded arena (words_init), so that copying a word may read
 * a whole 16-byte block past its end (see put_fast).
 */
struct word {
	const char *s;
	unsigned len;
};
#define W(x) { x, sizeof(x) - 1 }
#define NW(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static struct word latin_words[] = {
	W("Love"), W("Night"), W("Heart"), W("Fire"), W("Dream"), W("Baby"), W("Girl"), W("Boy"),
	W("Summer"), W("Rain"), W("Light"), W("Dark"), W("Wild"), W("Home"), W("Time"), W("Forever"),
	W("Alone"), W("Together"), W("Dance"), W("Tonight"), W("City"), W("River"), W("Golden"),
	W("Blue"), W("Red"), W("Midnight"), W("Sunrise"), W("Ocean"), W("Stars"), W("Moon"), W("Sky"),
	W("Ghost"), W("Angel"), W("Devil"), W("Paradise"), W("Lost"), W("Found"), W("Broken"),
	W("Crazy"), W("Sweet"), W("Sugar"), W("Honey"), W("Money"), W("Gold"), W("Diamonds"),
	W("Shadow"), W("Echo"), W("Silence"), W("Thunder"), W("Storm"), W("Wind"), W("Highway"),
	W("Road"), W("Train"), W("Letter"), W("Memories"), W("Story"), W("Song"), W("Melody"),
	W("Rhythm"), W("Groove"), W("Funk"), W("Soul"), W("Blues"), W("Rock"), W("Electric"),
	W("Neon"), W("Velvet"), W("Crystal"), W("Silver"), W("Winter"), W("Spring"), W("Autumn"),
	W("Morning"), W("Evening"), W("Yesterday"), W("Tomorrow"), W("Everything"), W("Nothing"),
	W("Somebody"), W("Nobody"), W("Hello"), W("Goodbye"), W("Please"), W("Sorry"), W("Again"),
	W("Never"), W("Always"), W("Maybe"), W("Burn"), W("Fly"), W("Run"), W("Fall"), W("Rise"),
	W("Shine"), W("Cry"), W("Smile"), W("Kiss"), W("Touch"), W("Hold"), W("Wait"), W("Stay"),
	W("Leave"), W("Breathe"), W("Don't"), W("I'm"), W("You're"), W("It's"), W("Can't"),
	W("Won't"), W("Let's"), W("Tell"), W("Me"), W("You"), W("Us"), W("My"), W("Your"), W("Her"),
	W("Who"), W("What"), W("Why"), W("Where"), W("When"), W("Heaven"), W("Body"), W("Mind"),
	W("Eyes"), W("Hands"), W("Lips"), W("Blood"), W("Bones"), W("Tears"), W("Waves"), W("Fever"),
	W("Magic"), W("Mirror"), W("Window"), W("Garden"), W("Island"), W("Desert"), W("Mountain"),
	W("Valley"), W("Kingdom"), W("Empire"), W("Revolution"), W("Freedom"), W("Gravity"),
	W("Satellite"), W("Rocket"), W("Machine"), W("Radio"), W("Disco"), W("Cowboy"), W("Outlaw"),
	W("Sunset"), W("Sunshine"), W("Lullaby"), W("Serenade"), W("Anthem"), W("Ballad"),
	W("Requiem"), W("Overture"), W("Ceremony"), W("Temptation"), W("Monday"), W("Saturday"),
	/* Spanish, Portuguese, French, German, Nordic and more, with their diacritics */
	W("Corazón"), W("Canción"), W("Amor"), W("Noche"), W("Vida"), W("Fuego"), W("Mañana"),
	W("Sueño"), W("Bailando"), W("Besos"), W("Cielo"), W("Luna"), W("Sol"), W("Mar"), W("Niña"),
	W("Adiós"), W("Señorita"), W("Qué"), W("Más"), W("Así"), W("Pasión"), W("Dímelo"), W("Tú"),
	W("Olvídame"), W("Saudade"), W("Coração"), W("Você"), W("Não"), W("São"), W("Paixão"),
	W("Ilusão"), W("Lágrimas"), W("Été"), W("Cœur"), W("Rêve"), W("Fenêtre"), W("Déjà"), W("Ça"),
	W("Garçon"), W("Noël"), W("Où"), W("Éternité"), W("Mélodie"), W("Chérie"), W("Étoile"),
	W("Mädchen"), W("Schön"), W("Über"), W("Straße"), W("Träume"), W("Nächte"), W("Frühling"),
	W("Glück"), W("Tränen"), W("Müde"), W("Ljós"), W("Hjarta"), W("Sjö"), W("Fjäril"),
	W("Ångest"), W("Kærlighed"), W("Øjne"), W("Hoppípolla"), W("Sæglópur"), W("Gönül"),
	W("Şarkı"), W("Aşk"), W("Güzel"), W("Miłość"), W("Życie"), W("Świat"), W("Píseň"),
	W("Srdce"), W("Người"), W("Yêu"),
};

/* Rare words with characters that need care in JSON or in tools: quotes, slashes,
 * a backslash, punctuation. Used for a few percent of titles. */
static struct word special_words[] = {
	W("12\\\" Mix"), W("Love/Hate"), W("24/7"), W("\\\\m/"), W("Rock 'n' Roll"), W("(Interlude)"),
	W("Pt. 2"), W("No. 1"), W("#1"), W("100%"), W("$$$"), W("+"), W("&"), W("!"), W("?"),
	W("..."), W("Vol. 3"), W("Mr."), W("\\\"Hey\\\""), W("A/B"), W("<3"), W("C'est la vie"),
};

static struct word connect_words[] = {
	W("of"), W("in the"), W("on my"), W("for"), W("with"), W("to the"), W("and"), W("&"),
	W("de"), W("la"), W("el"), W("mi"), W("und"), W("les"), W("from the"), W("like"),
};

static struct word version_words[] = {
	W(" - Remix"), W(" - Radio Edit"), W(" - Live"), W(" (Live)"), W(" - Acoustic Version"),
	W(" - Extended Mix"), W(" - Original Mix"), W(" (Remix)"), W(" - Instrumental"),
	W(" - Sped Up"), W(" - Slowed + Reverb"), W(" (Demo)"), W(" - 2011 Remaster"),
	W(" - Single Version"), W(" - Mono"), W(" - Remastered"), W(" (Bonus Track)"),
	W(" - Live at Wembley Stadium, London / 1986"), W(" - 12\\\" Extended"),
	W(" (Versión Acústica)"), W(" - Live aus Berlin"), W(" (Ao Vivo)"), W(" - Club Mix"),
	W(" - Edit"), W(" (Deluxe Edition)"), W(" (Taylor's Version)"),
	W(" - From \\\"The Lion King\\\""), W(" - Track Recap, Pt. 4"), W(" (ASOT 1145)"),
};

/* What a near-duplicate of a track appends to mark another recording (distinguishing
 * qualifiers, FORMAT.md 14.3): it must never join its source by text. */
static struct word qual_suffix[] = {
	W(" - Live"), W(" (Live)"), W(" - Remix"), W(" (Remix)"), W(" - Acoustic"), W(" - Radio Edit"),
	W(" (Instrumental)"), W(" - Demo"),
};

static struct word emoji_words[] = {
	W(" 🔥"), W(" ❤️"), W(" ✨"), W(" 🌙"), W(" 💔"), W(" 🎶"), W(" 😈"), W(" 🌹"), W(" 🦋"),
	W(" 💫"),
};

static struct word classical_forms[] = {
	W("Symphony"), W("Piano Sonata"), W("String Quartet"), W("Piano Concerto"),
	W("Violin Concerto"), W("Étude"), W("Prélude"), W("Nocturne"), W("Mazurka"), W("Suite"),
	W("Cello Suite"), W("Sinfonía"), W("Sérénade"), W("Partita"),
};
static struct word classical_keys[] = {
	W("C"), W("D"), W("E"), W("F"), W("G"), W("A"), W("B"), W("E♭"), W("B♭"), W("A♭"), W("F♯"),
	W("C♯"), W("D♭"),
};
static struct word classical_movts[] = {
	W("I. Allegro con brio"), W("II. Andante cantabile"), W("III. Scherzo. Allegro vivace"),
	W("IV. Presto"), W("I. Adagio sostenuto"), W("II. Allegretto"),
	W("III. Rondo. Allegro ma non troppo"), W("I. Largo"), W("II. Menuetto"), W("Prélude"),
	W("Allemande"), W("Courante"), W("Sarabande"), W("Gigue"), W("I. Moderato"),
};

/* Cyrillic words are stored lower-case; the first word of a title is capitalised. */
static struct word cyr_words[] = {
	W("любовь"), W("ночь"), W("звезда"), W("город"), W("мечта"), W("сердце"), W("небо"),
	W("зима"), W("лето"), W("весна"), W("дождь"), W("ветер"), W("море"), W("огонь"),
	W("танцуй"), W("песня"), W("навсегда"), W("один"), W("мы"), W("ты"), W("я"), W("не"),
	W("всё"), W("москва"), W("тишина"), W("свет"), W("солнце"), W("душа"), W("кино"),
	W("кукушка"), W("группа"), W("крови"), W("мама"), W("домой"), W("последний"), W("герой"),
	W("белый"), W("чёрный"), W("красный"), W("мрія"), W("пісня"), W("київ"), W("україна"),
	W("зоряна"), W("вітер"), W("щастя"), W("доля"), W("єдина"),
};

static struct word cjk_words[] = {
	W("愛"), W("夜"), W("空"), W("夢"), W("君"), W("桜"), W("花火"), W("東京"), W("恋"), W("心"),
	W("涙"), W("星"), W("月"), W("雨"), W("風"), W("世界"), W("未来"), W("さよなら"),
	W("ありがとう"), W("きみ"), W("ぼく"), W("メロディー"), W("ラブソング"), W("青い"), W("春"),
	W("夏"), W("秋"), W("冬"), W("我们"), W("爱情"), W("月亮"), W("城市"), W("故事"), W("时间"),
	W("朋友"), W("青春"), W("北京"), W("夜晚"), W("你"), W("的"), W("歌"), W("𠮷野家"), W("𩸽"),
	W("ドライフラワー"), W("夜に駆ける"), W("紅蓮華"), W("残響散歌"), W("少女"), W("神様"),
	W("光"), W("影"), W("香港"), W("上海"), W("晴天"), W("稻香"),
};

static struct word hangul_words[] = {
	W("사랑"), W("밤"), W("별"), W("꿈"), W("너"), W("나"), W("우리"), W("하늘"), W("봄날"),
	W("노래"), W("안녕"), W("눈물"), W("그대"), W("바다"), W("기억"), W("시간"), W("마음"), W("빛"),
	W("약속"), W("첫눈"),
};

static struct word arabic_words[] = {
	W("حب"), W("ليل"), W("قلب"), W("يا"), W("حبيبي"), W("نور"), W("سماء"), W("بحر"), W("أنت"),
	W("عمري"), W("وطن"), W("شمس"), W("قمر"), W("أغنية"), W("حياتي"), W("الليل"), W("سلام"),
	W("بيروت"), W("القاهرة"), W("عشق"), W("دل"),
};

/* Greek, Hebrew, Devanagari and Thai: one table each, a title keeps to one. */
static struct word greek_words[] = {
	W("αγάπη"), W("νύχτα"), W("καρδιά"), W("θάλασσα"), W("ουρανός"), W("Αθήνα"), W("όνειρο"),
};
static struct word hebrew_words[] = {
	W("אהבה"), W("לילה"), W("שיר"), W("ים"), W("לב"), W("שמש"),
};
static struct word hindi_words[] = {
	W("प्यार"), W("दिल"), W("रात"), W("गाना"), W("तेरे"), W("बिना"), W("सपना"),
};
static struct word thai_words[] = {
	W("รัก"), W("คืน"), W("เพลง"), W("ใจ"), W("ฝัน"),
};

static struct word first_names[] = {
	W("James"), W("Maria"), W("José"), W("Björn"), W("Zoë"), W("Chloé"), W("Søren"), W("Ana"),
	W("João"), W("François"), W("Renée"), W("Jürgen"), W("Łukasz"), W("Antonín"), W("Ólafur"),
	W("Agnès"), W("Inés"), W("Raúl"), W("Ramón"), W("Nicolás"), W("Andrés"), W("Céline"),
	W("Hélène"), W("Amélie"), W("Mikael"), W("Emma"), W("Olivia"), W("Liam"), W("Noah"),
	W("Lucas"), W("Mia"), W("Sofía"), W("David"), W("Michael"), W("Sarah"), W("Laura"),
	W("Marco"), W("Giulia"), W("Paolo"), W("Kenji"), W("Aaliyah"), W("Jamal"), W("Chris"),
	W("Taylor"), W("Jordan"), W("Alex"), W("Sam"), W("Lena"), W("Nina"), W("Felix"), W("Max"),
	W("Lars"), W("Ingrid"), W("Astrid"), W("Mateo"), W("Valentina"), W("Camila"), W("Diego"),
	W("Luis"), W("Carlos"), W("Pedro"), W("Gabriel"), W("Léa"), W("Maël"), W("Émile"),
	W("Jesús"), W("Ángel"), W("Íñigo"), W("Julian"), W("Richard"), W("Paul"), W("Dua"),
};
static struct word last_names[] = {
	W("Smith"), W("Johnson"), W("García"), W("Müller"), W("Schäfer"), W("Pérez"), W("González"),
	W("Rodríguez"), W("Núñez"), W("Fernández"), W("López"), W("Martín"), W("Dubois"),
	W("Lefèvre"), W("Ødegaard"), W("Åkesson"), W("Jónsson"), W("Kowalski"), W("Nowak"),
	W("Dvořák"), W("Novák"), W("Yılmaz"), W("Öztürk"), W("Rossi"), W("Bianchi"), W("Silva"),
	W("Conceição"), W("Brown"), W("Williams"), W("Taylor"), W("Wilson"), W("Andersson"),
	W("Lindqvist"), W("van Dyk"), W("de la Cruz"), W("O'Connor"), W("MacLeod"), W("Durand"),
	W("Elston"), W("Gray"), W("Jackson"), W("Lee"), W("Kim"), W("Nguyễn"), W("Trần"),
	W("Sánchez"), W("Ramírez"), W("Gómez"), W("Díaz"), W("Vázquez"), W("Köhler"), W("Weiß"),
	W("Strauß"), W("Björklund"), W("Sjöberg"), W("Hämäläinen"), W("Virtanen"),
};
static struct word stage_names[] = {
	W("Beyoncé"), W("Motörhead"), W("Sigur Rós"), W("Björk"), W("Mötley Crüe"), W("Maná"),
	W("Zoé"), W("Rosalía"), W("Röyksopp"), W("Múm"), W("Blue Öyster Cult"), W("Queensrÿche"),
	W("Hüsker Dü"), W("Café Tacvba"), W("Sinéad"), W("Céu"), W("MØ"), W("Ásgeir"),
	W("Ñengo Flow"), W("AC/DC"), W("Guns N' Roses"), W("Florence + The Machine"), W("P!nk"),
	W("Ke$ha"), W("will.i.am"), W("Tiësto"), W("Kölsch"), W("Hoopoe"), W("Moderat"),
	W("Orchestral Manoeuvres In The Dark"), W("Sunn O)))"), W("!!!"),
};
static struct word band_adj[] = {
	W("Velvet"), W("Electric"), W("Midnight"), W("Golden"), W("Silver"), W("Neon"), W("Black"),
	W("White"), W("Crimson"), W("Wild"), W("Lonely"), W("Broken"), W("Burning"), W("Flying"),
	W("Arctic"), W("Cosmic"), W("Sonic"), W("Royal"), W("Little"), W("Big"), W("Young"),
	W("Dead"), W("Happy"), W("Strange"), W("Wandering"), W("Fleetwood"), W("Gorillaz"),
};
static struct word band_nouns[] = {
	W("Ghosts"), W("Wolves"), W("Kings"), W("Queens"), W("Monkeys"), W("Lions"), W("Hearts"),
	W("Stones"), W("Dreamers"), W("Strangers"), W("Rebels"), W("Saints"), W("Sinners"),
	W("Foxes"), W("Tigers"), W("Birds"), W("Rockets"), W("Machines"), W("Lovers"), W("Brothers"),
	W("Sisters"), W("Pilots"), W("Riders"), W("Shadows"), W("Echoes"), W("Children"),
	W("Horses"), W("Owls"), W("Bears"),
};
static struct word name_prefix[] = {
	W("DJ "), W("MC "), W("Lil "), W("Young "), W("Big "), W("Los "), W("Les "), W("Die "),
	W("Dr. "), W("King "),
};
static struct word group_suffix[] = {
	W(" Trio"), W(" Quartet"), W(" Orchestra"), W(" Band"), W(" Ensemble"), W(" Collective"),
	W(" Project"), W(" Experience"), W(" Choir"), W(" Philharmonic"), W(" Sound System"),
};
static struct word cyr_first[] = {
	W("Алексей"), W("Мария"), W("Иван"), W("Анна"), W("Дмитрий"), W("Ольга"), W("Сергей"),
	W("Наталья"), W("Виктор"), W("Алла"), W("Егор"), W("Полина"), W("Тарас"), W("Олена"),
};
static struct word cyr_last[] = {
	W("Иванов"), W("Смирнова"), W("Кузнецов"), W("Попова"), W("Соколов"), W("Лебедева"),
	W("Цой"), W("Пугачёва"), W("Шевчук"), W("Крид"), W("Меладзе"),
};
static struct word cyr_bands[] = {
	W("Кино"), W("Сплин"), W("Ленинград"), W("Звери"), W("Мумий Тролль"), W("Би-2"),
	W("Океан Ельзи"), W("Браво"), W("Агата Кристи"), W("Король и Шут"), W("Земфира"),
};
static struct word cjk_family[] = {
	W("山田"), W("佐藤"), W("鈴木"), W("高橋"), W("田中"), W("周"), W("王"), W("李"), W("陈"),
	W("林"), W("米津"), W("宇多田"), W("椎名"),
};
static struct word cjk_given[] = {
	W("花子"), W("太郎"), W("美咲"), W("翔"), W("杰伦"), W("菲"), W("俊杰"), W("玄師"),
	W("ヒカル"), W("林檎"), W("𠮷"),
};
static struct word cjk_groups[] = {
	W("あいみょん"), W("嵐"), W("乃木坂46"), W("五月天"), W("ヨルシカ"), W("King Gnu"),
	W("YOASOBI"), W("米津玄師"),
};
static struct word hangul_family[] = {
	W("김"), W("이"), W("박"), W("최"), W("정"), W("강"),
};
static struct word hangul_given[] = {
	W("민지"), W("지수"), W("태연"), W("윤아"), W("하늘"), W("서준"), W("지민"),
};
static struct word hangul_groups[] = {
	W("방탄소년단"), W("소녀시대"), W("아이유"), W("뉴진스"), W("블랙핑크"), W("세븐틴"),
};
static struct word arabic_first[] = {
	W("محمد"), W("أحمد"), W("فيروز"), W("عمرو"), W("نانسي"), W("إليسا"), W("كاظم"), W("ماجدة"),
};
static struct word arabic_last[] = {
	W("دياب"), W("منير"), W("عجرم"), W("حسني"), W("الساهر"), W("الرومي"),
};
static struct word other_names[] = {
	W("Γιάννης Πάριος"), W("Άννα Βίσση"), W("Νίκος Βέρτης"), W("עומר אדם"), W("נועה קירל"),
	W("अरिजीत सिंह"), W("श्रेया घोषाल"), W("लता मंगेशकर"), W("เบิร์ด ธงไชย"), W("ปาล์มมี่"),
};

static struct word genres[] = {
	W("pop"), W("dance pop"), W("k-pop"), W("j-pop"), W("c-pop"), W("mandopop"), W("cantopop"),
	W("latin pop"), W("reggaeton"), W("trap latino"), W("urbano latino"), W("hip hop"), W("rap"),
	W("trap"), W("drill"), W("uk drill"), W("grime"), W("r&b"), W("neo soul"), W("soul"),
	W("funk"), W("disco"), W("house"), W("deep house"), W("tech house"), W("progressive house"),
	W("trance"), W("progressive trance"), W("uplifting trance"), W("techno"),
	W("minimal techno"), W("drum and bass"), W("dubstep"), W("edm"), W("electro"),
	W("indie rock"), W("indie pop"), W("modern rock"), W("alternative rock"), W("post-punk"),
	W("new wave"), W("synthpop"), W("art pop"), W("dream pop"), W("shoegaze"), W("metal"),
	W("heavy metal"), W("thrash metal"), W("black metal"), W("hard rock"), W("classic rock"),
	W("blues rock"), W("folk"), W("indie folk"), W("singer-songwriter"), W("country"),
	W("contemporary country"), W("americana"), W("bluegrass"), W("jazz"), W("vocal jazz"),
	W("bebop"), W("classical"), W("baroque"), W("romantic era"), W("opera"), W("soundtrack"),
	W("lo-fi beats"), W("ambient"), W("new age"), W("mpb"), W("sertanejo"), W("samba"),
	W("bossa nova"), W("forró"), W("cumbia"), W("bachata"), W("salsa"), W("merengue"),
	W("música mexicana"), W("corridos tumbados"), W("banda"), W("regional mexican"),
	W("flamenco"), W("rock en español"), W("chanson"), W("variété française"),
	W("rap français"), W("schlager"), W("deutschrap"), W("italo pop"), W("russian pop"),
	W("russian rock"), W("russian hip hop"), W("ukrainian pop"), W("turkish pop"),
	W("arabic pop"), W("khaleeji"), W("rai"), W("afrobeats"), W("amapiano"), W("highlife"),
	W("bollywood"), W("desi pop"), W("punjabi pop"), W("thai pop"), W("k-indie"), W("j-rock"),
	W("anime"), W("vocaloid"), W("city pop"), W("gospel"), W("worship"),
	W("children's music"), W("reggae"), W("dancehall"), W("ska"),
};
/* The first genre of an artist follows the script of the name (indexes into genres[]). */
static const uint8_t script_genre[SC_N][4] = {
	[SC_LATIN] = { 0, 11, 36, 8 },
	[SC_CYRILLIC] = { 90, 91, 92, 93 },
	[SC_CJK] = { 3, 4, 5, 108 },
	[SC_HANGUL] = { 2, 106, 2, 0 },
	[SC_ARABIC] = { 95, 96, 97, 95 },
	[SC_OTHER] = { 101, 102, 104, 0 },
};

#define T(x) { x, NW(x) }
static const struct {
	struct word *tab;
	uint32_t n;
} all_tables[] = {
	T(latin_words), T(special_words), T(connect_words), T(version_words), T(emoji_words),
	T(classical_forms), T(classical_keys), T(classical_movts), T(cyr_words), T(cjk_words),
	T(hangul_words), T(arabic_words), T(greek_words), T(hebrew_words), T(hindi_words),
	T(thai_words), T(first_names), T(last_names), T(stage_names), T(band_adj), T(band_nouns),
	T(name_prefix), T(group_suffix), T(cyr_first), T(cyr_last), T(cyr_bands), T(cjk_family),
	T(cjk_given), T(cjk_groups), T(hangul_family), T(hangul_given), T(hangul_groups),
	T(arabic_first), T(arabic_last), T(other_names), T(genres),
};
#undef T

/* Move every word into one arena with 16 spare bytes after each, so put_fast may
 * read whole blocks. Returns -1 when out of memory. */
static int words_init(void)
{
	size_t total = 0;
	for (size_t t = 0; t < NW(all_tables); t++)
		for (uint32_t i = 0; i < all_tables[t].n; i++)
			total += all_tables[t].tab[i].len + 16;
	char *arena = calloc(total, 1), *p = arena;
	if (!arena)
		return -1;
	for (size_t t = 0; t < NW(all_tables); t++)
		for (uint32_t i = 0; i < all_tables[t].n; i++) {
			struct word *w = &all_tables[t].tab[i];
			memcpy(p, w->s, w->len);
			w->s = p;
			p += w->len + 16;
		}
	return 0;
}

static const char country_codes[][3] = {
	"US", "GB", "DE", "FR", "NL", "SE", "JP", "KR", "BR", "ES", "IT", "CA", "AU", "MX", "QM",
	"QZ", "FI", "NO", "DK", "BE", "AT", "CH", "PL", "RU", "TR", "IN", "AR", "CO", "ZA", "IE",
};
#define N_CC 30u
#define N_REG (36u * 36u * 36u)   /* 3 alphanumeric registrant characters */

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char hexd[] = "0123456789abcdef";
static char hexpair[256][2];   /* filled by b62_init */
static const char alnum36[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* U+00C0..U+00FF and U+0100..U+017F without their accents (0: keep the letter). */
static const char strip_c3[65] =
	"AAAAAAACEEEEIIIIDNOOOOO\0OUUUUYTsaaaaaaaceeeeiiiidnooooo\0ouuuuyty";
static const char strip_c4c5[129] =
	"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOo"
	"RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";
_Static_assert(sizeof(strip_c3) == 65 && sizeof(strip_c4c5) == 129,
	"the accent tables cover 64 and 128 code points");

/* ---------------------------------------------------------------------------------
 * Generator state
 */
struct aent {                    /* one cached artist: 96 bytes, so the cache stays small */
	uint64_t idx;
	uint8_t len, script;
	char id[22];                 /* put_fast reads 32 bytes here: 10 from name, in bounds */
	char name[ANAME_MAX];
};

struct album {                   /* an album's names and dates, cached (see album_get) */
	uint64_t key;                /* (block << 4) | first slot; UINT64_MAX when empty */
	uint32_t namelen, datelen, type;
	char id[32];
	char date[16];
	char name[TITLE_MAX];
};

struct core {                    /* what a re-release of the same recording keeps */
	uint32_t namelen, nart, duration, explicit_, script;
	uint64_t art[3];
	char name[TITLE_MAX];
};

struct rev {                     /* how a revision differs from the base version */
	uint64_t delta;              /* steps added to fetched_at: 1 s each (api), 1000 ms (dump) */
	int pop_add;                 /* 0, or 1..100: popularity becomes (base + pop_add) % 101 */
};

struct truth {
	uint64_t lines, kept, exact, reordered, escaped, revisions, near, isrc_reuses;
	uint64_t isrc_shared, distinct_isrcs, bad[BAD_N], bytes;
};

struct gen {
	uint64_t seed, count;
	int kind, layout;
	uint64_t members, member_base;   /* --kind listen */
	uint64_t key[K_N];
	/* line-kind thresholds, cumulative, in units of 2^-53 */
	uint64_t t_bad, t_exact, t_reorder, t_escape, t_rev;
	/* record-kind thresholds for a new record, in units of 2^-53 */
	uint64_t t_near, t_isrc;
	uint64_t isrc_mul, isrc_add;
	uint64_t nkept, nrev;
	struct truth tr;
	uint8_t *isrc_ring;          /* ISRC_WINDOW bits: "this record's ISRC is already shared" */
	struct aent *acache;
	struct album *alcache;
	uint64_t blk;                /* the last block of 16 records cut into albums ... */
	uint32_t blk_mask;           /* ... and where its albums start */
	uint64_t pl_key, pl_artist;  /* the last album placed: its key, main artist ... */
	int pl_twodisc;              /* ... and whether it has two discs */
	char *scratch;               /* one normal-form line, before reordering or re-escaping */
	char *scratch2;
	/* output */
	int fd;
	char *buf;
	size_t pos;
	char *vbuf[3];               /* --vmsplice: buf is vbuf[vcur] */
	int vcur, vmsplice;
	const char *out_path;        /* NULL for stdout */
	int remove_on_error;         /* out_path is a regular file we truncated: remove it */
	FILE *facts;                 /* --cluster-facts: the match facts of each stored record */
	int facts_revisions;         /* ... revisions are stored too (--on-conflict last) */
};

static volatile sig_atomic_t interrupted;

/* ---------------------------------------------------------------------------------
 * Small writers. Each takes the write position and returns the new one; the caller
 * guarantees room (LINE_RESERVE).
 */
#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* Copy n bytes in whole 16-byte blocks: it may read up to 15 bytes past s + n and
 * write up to 15 past p + n. Every source handed to it is padded for that (the word
 * arena, the caches' and records' fixed-size buffers), and every destination has room
 * to spare (the output keeps LINE_RESERVE free; later bytes overwrite the excess).
 * Fixed-size memcpy compiles to vector moves, where a variable one is a call. */
static inline char *put_fast(char *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i += 16)
		memcpy(p + i, s + i, 16);
	return p + n;
}

static inline char *put_word(char *p, const struct word *w)
{
	return put_fast(p, w->s, w->len);
}

static inline char *put_mem(char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static const char digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const uint64_t pow10s[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

static char *put_u64(char *p, uint64_t v)
{
	unsigned n = 1;
	while (n < 20 && v >= pow10s[n])   /* count digits without dividing */
		n++;
	char *q = p + n;
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		*--q = digits2[d + 1];
		*--q = digits2[d];
	}
	if (v >= 10) {
		*--q = digits2[v * 2 + 1];
		*--q = digits2[v * 2];
	} else {
		*--q = (char)('0' + v);
	}
	return p + n;
}

static inline char *put_2d(char *p, unsigned v)
{
	p[0] = digits2[v * 2];
	p[1] = digits2[v * 2 + 1];
	return p + 2;
}

/* Pairs of base-62 digits for 0..3843 (and hex digits for a byte), filled at start-up. */
static char b62pair[62 * 62][2];

static void b62_init(void)
{
	for (int i = 0; i < 62 * 62; i++) {
		b62pair[i][0] = b62[i / 62];
		b62pair[i][1] = b62[i % 62];
	}
	for (int i = 0; i < 256; i++) {
		hexpair[i][0] = hexd[i >> 4];
		hexpair[i][1] = hexd[i & 15];
	}
}

/* 11 base-62 digits, most significant first: 62^11 > 2^64, so this is injective.
 * Split as v = hi * 62^6 + lo so that the rest is short 32-bit work on digit pairs. */
static void b62_11(char *out, uint64_t v)
{
	const uint64_t p6 = 56800235584ULL; /* 62^6 */
	uint32_t hi = (uint32_t)(v / p6);    /* < 62^5 */
	uint64_t lo = v % p6;
	uint32_t lh = (uint32_t)(lo / 238328), ll = (uint32_t)(lo % 238328); /* 62^3 each */
	memcpy(out + 1, b62pair[hi / 3844 % 3844], 2);
	memcpy(out + 3, b62pair[hi % 3844], 2);
	out[0] = b62[hi / (3844 * 3844)];
	out[5] = b62[lh / 3844];
	memcpy(out + 6, b62pair[lh % 3844], 2);
	out[8] = b62[ll / 3844];
	memcpy(out + 9, b62pair[ll % 3844], 2);
}

/* A 22-character Spotify-style id. The second half encodes a bijective mix of x, so
 * ids are unique for unique x; the first half is a hash kept below 8 * 62^10, which
 * makes the first character 0-7 as in Spotify's ids (they encode 128 bits). */
static void make_id(const struct gen *g, char *out, int stream, uint64_t x)
{
	const uint64_t hi_lim = 8ULL * 839299365868340224ULL; /* 8 * 62^10 */
	b62_11(out, below64(hk(g->key[K_ID_HI] ^ g->key[stream], x), hi_lim));
	b62_11(out + 11, mix64(x ^ g->key[stream]));
}

/* ---------------------------------------------------------------------------------
 * Record kinds and links between records (all pure functions of the seed and k)
 */
static int rec_type(const struct gen *g, uint64_t k)
{
	if (k == 0)
		return REC_PLAIN;
	uint64_t u = hk(g->key[K_TYPE], k) >> 11;
	if (u < g->t_near)
		return REC_NEAR;
	if (u < g->t_near + g->t_isrc)
		return REC_ISRC;
	return REC_PLAIN;
}

/* The earlier record whose title a near-duplicate k varies (uniform over 0..k-1). */
static uint64_t near_source(const struct gen *g, uint64_t k)
{
	return below64(hk(g->key[K_SOURCE], k), k);
}

/* The earlier record whose ISRC the re-use k carries: 1..ISRC_WINDOW-1 records back,
 * mostly close (like a compilation next to its album), sometimes far. */
static uint64_t isrc_owner(const struct gen *g, uint64_t k)
{
	uint64_t lim = k < ISRC_WINDOW - 1 ? k : ISRC_WINDOW - 1;
	return k - 1 - zipf_below(hk(g->key[K_OWNER], k), lim);
}

/* The record whose own ISRC k carries (k itself unless k is a re-use). */
static uint64_t isrc_root(const struct gen *g, uint64_t k)
{
	while (rec_type(g, k) == REC_ISRC)
		k = isrc_owner(g, k);
	return k;
}

/* The plain record at the end of k's chain of links: its title is a base title. */
static uint64_t plain_source(const struct gen *g, uint64_t k)
{
	for (;;) {
		int t = rec_type(g, k);
		if (t == REC_PLAIN)
			return k;
		k = t == REC_NEAR ? near_source(g, k) : isrc_owner(g, k);
	}
}

/* The artist pool grows with the record number (one new artist per ten records), so
 * that a shorter run is a prefix of a longer one. */
static inline uint64_t pool_at(uint64_t k)
{
	return 100 + k / 10;
}

/* ISRC CCXXXYYNNNNN, injective in k: records are taken in groups of 16 (a label's
 * consecutive designation codes, like an album's), the group number goes through an
 * affine bijection modulo the number of groups, and its image is spelled as country,
 * registrant, year and the designation's upper part. */
#define ISRC_COMBOS ((uint64_t)N_CC * N_REG * 100)
#define ISRC_GROUPS (ISRC_COMBOS * 6250)   /* 6250 * 16 = 100000 designation codes */

static void isrc_of(const struct gen *g, uint64_t k, char *out)
{
	uint64_t grp = (k >> 4) % ISRC_GROUPS;
	uint64_t gp = (uint64_t)(((unsigned __int128)grp * g->isrc_mul + g->isrc_add) % ISRC_GROUPS);
	uint64_t combo = gp / 6250;
	unsigned des = (unsigned)(gp % 6250) * 16 + (unsigned)(k & 15);
	unsigned cc = (unsigned)(combo % N_CC);
	unsigned reg = (unsigned)((combo / N_CC) % N_REG);
	unsigned yy = (unsigned)(combo / ((uint64_t)N_CC * N_REG));
	out[0] = country_codes[cc][0];
	out[1] = country_codes[cc][1];
	out[2] = alnum36[reg / 1296];
	out[3] = alnum36[(reg / 36) % 36];
	out[4] = alnum36[reg % 36];
	put_2d(out + 5, yy);
	out[7] = (char)('0' + des / 10000);
	put_2d(out + 8, des / 100 % 100);
	put_2d(out + 10, des % 100);
}

/* ---------------------------------------------------------------------------------
 * Names and titles
 */
static int pick_script(struct rng *r)
{
	uint32_t x = rbelow(r, 100);
	if (x < 78)
		return SC_LATIN;
	if (x < 85)
		return SC_CYRILLIC;
	if (x < 91)
		return SC_CJK;
	if (x < 94)
		return SC_HANGUL;
	if (x < 97)
		return SC_ARABIC;
	return SC_OTHER;
}

#define PICK(r, tab) (&(tab)[rbelow((r), NW(tab))])

/* Capitalise the first letter of a Cyrillic word in place (basic, Ukrainian letters). */
static void cyr_capitalise(char *s)
{
	unsigned char *u = (unsigned char *)s;
	if (u[0] == 0xd0 && u[1] >= 0xb0 && u[1] <= 0xbf) {
		u[1] -= 0x20;
	} else if (u[0] == 0xd1 && u[1] >= 0x80 && u[1] <= 0x8f) {
		u[0] = 0xd0;
		u[1] += 0x20;
	} else if (u[0] == 0xd1 && u[1] >= 0x90 && u[1] <= 0x9f) {
		u[0] = 0xd0;
		u[1] -= 0x10;
	}
}

static uint32_t artist_name(const struct gen *g, uint64_t a, char *out, uint32_t *script)
{
	struct rng r = rseed(g->key[K_ARTIST], a);
	int sc = pick_script(&r);
	char *p = out;
	uint32_t x = rbelow(&r, 100);
	switch (sc) {
	case SC_LATIN:
		/* shares chosen to give the ~10-byte mean of the real dump's names */
		if (x < 38) {
			p = put_word(p, PICK(&r, first_names));
			*p++ = ' ';
			p = put_word(p, PICK(&r, last_names));
		} else if (x < 48) {
			p = LIT(p, "The ");
			p = put_word(p, PICK(&r, band_adj));
			*p++ = ' ';
			p = put_word(p, PICK(&r, band_nouns));
		} else if (x < 55) {
			p = put_word(p, PICK(&r, name_prefix));
			p = put_word(p, PICK(&r, latin_words));
		} else if (x < 62) {
			p = put_word(p, PICK(&r, band_adj));
			*p++ = ' ';
			p = put_word(p, PICK(&r, latin_words));
		} else if (x < 65) {
			p = put_word(p, PICK(&r, first_names));
			p = LIT(p, " & The ");
			p = put_word(p, PICK(&r, band_nouns));
		} else if (x < 70) {
			p = put_word(p, PICK(&r, last_names));
			p = put_word(p, PICK(&r, group_suffix));
		} else if (x < 76) {
			p = put_word(p, PICK(&r, stage_names));
		} else if (x < 88) {
			p = put_word(p, PICK(&r, latin_words));
		} else if (x < 94) {
			p = put_word(p, PICK(&r, first_names));
		} else {
			p = put_word(p, PICK(&r, band_nouns));
		}
		break;
	case SC_CYRILLIC:
		if (x < 70) {
			p = put_word(p, PICK(&r, cyr_first));
			*p++ = ' ';
			p = put_word(p, PICK(&r, cyr_last));
		} else {
			p = put_word(p, PICK(&r, cyr_bands));
		}
		break;
	case SC_CJK:
		if (x < 75) {
			p = put_word(p, PICK(&r, cjk_family));
			p = put_word(p, PICK(&r, cjk_given));
		} else {
			p = put_word(p, PICK(&r, cjk_groups));
		}
		break;
	case SC_HANGUL:
		if (x < 60) {
			p = put_word(p, PICK(&r, hangul_family));
			p = put_word(p, PICK(&r, hangul_given));
		} else {
			p = put_word(p, PICK(&r, hangul_groups));
		}
		break;
	case SC_ARABIC:
		p = put_word(p, PICK(&r, arabic_first));
		*p++ = ' ';
		p = put_word(p, PICK(&r, arabic_last));
		break;
	default:
		p = put_word(p, PICK(&r, other_names));
		break;
	}
	*script = (uint32_t)sc;
	return (uint32_t)(p - out);
}

/* The word tables bound every name and title well below its buffer; this guards the
 * bound (put_fast needs 16 spare bytes) should the tables grow. */
static void too_long(const char *what, uint32_t len)
{
	fprintf(stderr, "gen: internal error: %s of %u bytes is over its limit\n", what, len);
	abort();
}

static const struct aent *artist_get(struct gen *g, uint64_t a)
{
	struct aent *e = &g->acache[a & (ACACHE - 1)];
	if (e->idx != a) {
		uint32_t sc;
		e->idx = a;
		make_id(g, e->id, K_ID_ARTIST, a);
		uint32_t len = artist_name(g, a, e->name, &sc);
		if (len > ANAME_MAX - 16)
			too_long("artist name", len);
		e->len = (uint8_t)len;
		e->script = (uint8_t)sc;
	}
	return e;
}

/* Append " (feat. NAME)" for a new artist of k's pool, adding it to the credits. */
static char *add_feat(struct gen *g, struct rng *r, struct core *c, uint64_t pool, char *p)
{
	uint64_t f = zipf_below(rnext(r), pool);
	for (uint32_t i = 0; i < c->nart; i++)
		if (c->art[i] == f)
			f = (f + 1) % pool;
	const struct aent *e = artist_get(g, f);
	p = LIT(p, " (feat. ");
	p = put_fast(p, e->name, e->len);
	*p++ = ')';
	if (c->nart < 3)
		c->art[c->nart++] = f;
	return p;
}

/* A title in the given script. When c is given (a track, not an album), some titles
 * credit a featured artist, who is then added to the track's artists. */
static uint32_t title_gen(struct gen *g, struct rng *r, int script, char *out, struct core *c,
	uint64_t pool)
{
	char *p = out;
	uint32_t n = 1 + rbelow(r, 3) + (rchance(r, 250) ? 1 + rbelow(r, 2) : 0);
	switch (script) {
	case SC_LATIN:
		if (rchance(r, 40)) {
			p = put_word(p, PICK(r, classical_forms));
			p = LIT(p, " No. ");
			p = put_u64(p, 1 + rbelow(r, 32));
			p = LIT(p, " in ");
			p = put_word(p, PICK(r, classical_keys));
			p = rchance(r, 500) ? LIT(p, " Major, Op. ") : LIT(p, " Minor, Op. ");
			p = put_u64(p, 1 + rbelow(r, 130));
			p = LIT(p, ": ");
			p = put_word(p, PICK(r, classical_movts));
			return (uint32_t)(p - out);
		}
		for (uint32_t i = 0; i < n; i++) {
			if (i) {
				*p++ = ' ';
				if (rchance(r, 200)) {
					p = put_word(p, PICK(r, connect_words));
					*p++ = ' ';
				}
			}
			p = put_word(p, rchance(r, 25) ? PICK(r, special_words) : PICK(r, latin_words));
		}
		break;
	case SC_CYRILLIC: {
		char *first = p;
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				*p++ = ' ';
			p = put_word(p, PICK(r, cyr_words));
		}
		cyr_capitalise(first);
		break;
	}
	case SC_CJK:
		for (uint32_t i = 0; i < n; i++)
			p = put_word(p, PICK(r, cjk_words));
		if (rchance(r, 150)) {
			*p++ = ' ';
			p = put_word(p, PICK(r, latin_words));
		}
		break;
	case SC_HANGUL:
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				*p++ = ' ';
			p = put_word(p, PICK(r, hangul_words));
		}
		break;
	case SC_ARABIC:
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				*p++ = ' ';
			p = put_word(p, PICK(r, arabic_words));
		}
		break;
	default: {
		uint32_t t = rbelow(r, 4);
		const struct word *tab = t == 0 ? greek_words : t == 1 ? hebrew_words
			: t == 2 ? hindi_words : thai_words;
		uint32_t nt = t == 0 ? NW(greek_words) : t == 1 ? NW(hebrew_words)
			: t == 2 ? NW(hindi_words) : NW(thai_words);
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				*p++ = ' ';
			p = put_word(p, &tab[rbelow(r, nt)]);
		}
		break;
	}
	}
	/* decorations, as found on real releases; album names carry fewer */
	uint32_t d = rbelow(r, 1000);
	if (!c) {
		if (d < 60)
			p = put_word(p, PICK(r, version_words));
	} else if (d < 170) {
		p = put_word(p, PICK(r, version_words));
	} else if (d < 210) {
		const struct aent *e = artist_get(g, zipf_below(rnext(r), pool));
		p = LIT(p, " - ");
		p = put_fast(p, e->name, e->len);
		p = LIT(p, " Remix");
	} else if (d < 230) {
		p = put_word(p, PICK(r, emoji_words));
	}
	if (c && rchance(r, 80))
		p = add_feat(g, r, c, pool, p);
	return (uint32_t)(p - out);
}

/* Near-duplicate variants of a title or name (s, in JSON-escaped form; the only
 * escapes in it are \" and \\, so changing the case of ASCII letters is safe). */
static uint32_t upper_ascii(char *s, uint32_t n, int lower)
{
	uint32_t changed = 0;
	for (uint32_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!lower && ch >= 'a' && ch <= 'z')
			s[i] = (char)(ch - 32), changed++;
		else if (lower && ch >= 'A' && ch <= 'Z')
			s[i] = (char)(ch + 32), changed++;
	}
	return changed;
}

static uint32_t strip_accents(char *s, uint32_t n, uint32_t *changed)
{
	uint32_t o = 0;
	*changed = 0;
	for (uint32_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];
		if (i + 1 < n && (b == 0xc3 || b == 0xc4 || b == 0xc5)) {
			unsigned char b2 = (unsigned char)s[i + 1];
			char a = 0;
			if (b2 >= 0x80 && b2 <= 0xbf)
				a = b == 0xc3 ? strip_c3[b2 - 0x80] : strip_c4c5[(b - 0xc4) * 64 + (b2 - 0x80)];
			if (a) {
				s[o++] = a;
				i++;
				(*changed)++;
				continue;
			}
		}
		s[o++] = s[i];
	}
	return o;
}

/* Turn c (a copy of an earlier record's core) into near-duplicate k's core. */
static void near_variant(struct gen *g, uint64_t k, struct core *c)
{
	struct rng r = rseed(g->key[K_VARIANT], k);
	uint32_t v = rbelow(&r, g->kind == KIND_TRACK ? 5 : 4), changed = 0;
	if (v == 4) {   /* another recording of the song: a live version, a remix, ... */
		char *p = put_word(c->name + c->namelen, PICK(&r, qual_suffix));
		c->namelen = (uint32_t)(p - c->name);
		return;
	}
	if (v == 3) {
		c->namelen = strip_accents(c->name, c->namelen, &changed);
		if (!changed)
			v = 2;
	}
	if (v == 2 && !upper_ascii(c->name, c->namelen, rchance(&r, 300)))
		v = 0;
	if (v == 1) {
		if (g->kind == KIND_TRACK) {
			c->namelen = (uint32_t)(add_feat(g, &r, c, pool_at(k), c->name + c->namelen) - c->name);
		} else {
			const struct aent *e = artist_get(g, zipf_below(rnext(&r), pool_at(k)));
			char *p = c->name + c->namelen;
			p = LIT(p, " & ");
			p = put_fast(p, e->name, e->len);
			c->namelen = (uint32_t)(p - c->name);
		}
	} else if (v == 0) {
		char *p = c->name + c->namelen;
		if (g->kind == KIND_TRACK) {
			p = LIT(p, " - Remastered ");
			p = put_u64(p, 1995 + rbelow(&r, 30));
		} else {
			p = put_word(p, PICK(&r, group_suffix));
		}
		c->namelen = (uint32_t)(p - c->name);
	}
}

/* ---------------------------------------------------------------------------------
 * Albums: records are cut into blocks of 16 consecutive numbers and each block into
 * albums (an album starts at each slot with probability 3/16), so the tracks of an
 * album are neighbours in the stream as in the real dump, and album membership is a
 * pure function of k.
 */
static const struct word album_types[] = { W("album"), W("single"), W("compilation") };

/* Where record k sits: its album's key (block << 4 | first slot), size, main artist,
 * and k's disc and track number. Cheap, no names: every record needs it. */
struct aplace {
	uint64_t key, artist;
	uint32_t total, disc, trackno;
};

static void album_place(struct gen *g, uint64_t k, struct aplace *ap)
{
	uint64_t blk = k >> 4;
	unsigned slot = (unsigned)(k & 15);
	uint32_t mask = g->blk_mask;
	if (blk != g->blk) {
		uint64_t h = hk(g->key[K_ALBUMBLK], blk);
		mask = 1;
		for (unsigned i = 1; i < 16; i++)
			if (((h >> (4 * i)) & 15) < 3)
				mask |= 1u << i;
		g->blk = blk;
		g->blk_mask = mask;
	}
	uint32_t upto = mask & ((2u << slot) - 1);
	unsigned start = 31 - (unsigned)__builtin_clz(upto);
	uint32_t above = mask & ~((2u << slot) - 1);
	unsigned end = above ? (unsigned)__builtin_ctz(above) : 16;
	uint32_t pos = slot - start;
	ap->key = (blk << 4) | start;
	ap->total = end - start;
	if (ap->key != g->pl_key) {
		struct rng r = rseed(g->key[K_ALBUM], ap->key);
		g->pl_key = ap->key;
		g->pl_artist = zipf_below(rnext(&r), pool_at(ap->key));
		/* a quarter of the longer albums are on two discs, numbered afresh on each */
		g->pl_twodisc = ap->total >= 10 && rchance(&r, 250);
	}
	ap->artist = g->pl_artist;
	ap->disc = 1;
	ap->trackno = pos + 1;
	if (g->pl_twodisc && pos >= ap->total / 2) {
		ap->disc = 2;
		ap->trackno = pos - ap->total / 2 + 1;
	}
}

/* The album's id, name, date and type (the api layout shows them), cached. */
static const struct album *album_get(struct gen *g, const struct aplace *ap)
{
	uint64_t key = ap->key;
	struct album *al = &g->alcache[key & (ALCACHE - 1)];
	if (al->key == key)
		return al;
	al->key = key;
	struct rng r = rseed(g->key[K_ALBUMNAME], key);
	make_id(g, al->id, K_ID_ALBUM, key);
	int sc = rchance(&r, 750) ? artist_get(g, ap->artist)->script : pick_script(&r);
	al->namelen = title_gen(g, &r, sc, al->name, NULL, pool_at(key));
	if (ap->total <= 3)
		al->type = 1;
	else if (ap->total <= 6)
		al->type = rchance(&r, 600) ? 1 : 0;
	else
		al->type = rchance(&r, 150) ? 2 : 0;
	/* the product of two uniforms leans towards recent years, as catalogues do */
	unsigned year = 2025 - rbelow(&r, 76) * rbelow(&r, 76) / 75;
	char *p = al->date;
	p = put_2d(p, year / 100);
	p = put_2d(p, year % 100);
	if (rchance(&r, 850)) {
		unsigned month = 1 + rbelow(&r, year == 2025 ? 3 : 12);
		*p++ = '-';
		p = put_2d(p, month);
		*p++ = '-';
		p = put_2d(p, 1 + rbelow(&r, 28));
	}
	al->datelen = (uint32_t)(p - al->date);
	return al;
}

/* ---------------------------------------------------------------------------------
 * Tracks
 */
static void base_core(struct gen *g, uint64_t s, struct core *c)
{
	struct rng r = rseed(g->key[K_CORE], s);
	struct aplace ap;
	album_place(g, s, &ap);
	uint64_t pool = pool_at(s);
	uint32_t x = rbelow(&r, 100);
	c->nart = x < 80 ? 1 : x < 95 ? 2 : 3;
	c->art[0] = rchance(&r, 850) ? ap.artist : zipf_below(rnext(&r), pool);
	for (uint32_t i = 1; i < c->nart; i++) {
		uint64_t a = zipf_below(rnext(&r), pool);
		for (uint32_t j = 0; j < i; j++)
			if (c->art[j] == a)
				a = (a + 1 + j) % pool;
		c->art[i] = a;
	}
	int sc = rchance(&r, 700) ? artist_get(g, c->art[0])->script : pick_script(&r);
	c->script = (uint32_t)sc;
	c->namelen = title_gen(g, &r, sc, c->name, c, pool);
	c->duration = 60000 + rbelow(&r, 130000) + rbelow(&r, 130000)
		+ (rchance(&r, 50) ? rbelow(&r, 900000) : 0);
	c->explicit_ = (uint32_t)rchance(&r, 90);
}

static void core_of(struct gen *g, uint64_t k, int type, struct core *c)
{
	if (type == REC_ISRC) {
		uint64_t reuse = k;
		k = isrc_root(g, k);
		type = rec_type(g, k);
		core_of(g, k, type, c);
		/* a quarter of the re-uses are cut 2.1 to 3 s longer (another master of the
		 * same recording): still an ISRC edge (3 s), but more than the chain guard's
		 * 2 s from a text near-duplicate of the same track that has its own ISRC */
		uint64_t h = hk(g->key[K_SHIFT], reuse);
		if ((h & 3) == 0)
			c->duration += 2100 + (uint32_t)((h >> 2) % 901);
		return;
	}
	if (type == REC_PLAIN) {
		base_core(g, k, c);
	} else {
		base_core(g, plain_source(g, near_source(g, k)), c);
		near_variant(g, k, c);
	}
	if (c->namelen > TITLE_MAX - 16)
		too_long("title", c->namelen);
}

/* Weekly snapshot dates of the 2025 dump (ms), weighted like the real sample. */
static const uint8_t dump_week[32] = {
	0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6, 7,
};
#define DUMP_T0 1741824000000ULL   /* 2025-03-13T00:00:00Z, in ms */
#define WEEK_MS 604800000ULL
#define API_T0 1741824000ULL       /* the same instant, in seconds */
/* Dump rowids: record k is row TRACK_ROWID0 + k, in the range of the real dump's. */
#define TRACK_ROWID0 100000001ULL
#define ALBUM_ROWID0 10000001ULL
#define API_SPAN (56u * 86400u)    /* base fetch times spread over eight weeks */

/* "YYYY-MM-DD" for a day number (days since 1970-01-01). */
static char *put_date(char *p, uint64_t days)
{
	static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned year = 1970;
	if (days >= 20089) {   /* 2025-01-01: start there, every time stamp made is later */
		days -= 20089;
		year = 2025;
	}
	for (;;) {
		unsigned ylen = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;
		if (days < ylen)
			break;
		days -= ylen;
		year++;
	}
	unsigned month = 0;
	for (;;) {
		unsigned mlen = mdays[month] + (unsigned)(month == 1 && year % 4 == 0
			&& (year % 100 != 0 || year % 400 == 0));
		if (days < mlen)
			break;
		days -= mlen;
		month++;
	}
	p = put_2d(p, year / 100);
	p = put_2d(p, year % 100);
	*p++ = '-';
	p = put_2d(p, month + 1);
	*p++ = '-';
	p = put_2d(p, (unsigned)days + 1);
	return p;
}

/* Dates of the days from API_T0 on, made once: nearly every time stamp falls in them. */
#define ISO_DAYS 512
static char iso_days[ISO_DAYS][10];

static void iso_init(void)
{
	for (unsigned d = 0; d < ISO_DAYS; d++)
		put_date(iso_days[d], API_T0 / 86400 + d);
}

/* "YYYY-MM-DDTHH:MM:SSZ" for seconds since 1970 (no time zones, no leap seconds). */
static char *put_iso(char *p, uint64_t t)
{
	uint64_t day = t / 86400 - API_T0 / 86400;
	unsigned sec = (unsigned)(t % 86400);
	if (t >= API_T0 && day < ISO_DAYS)
		p = put_mem(p, iso_days[day], 10);
	else
		p = put_date(p, t / 86400);
	*p++ = 'T';
	p = put_2d(p, sec / 3600);
	*p++ = ':';
	p = put_2d(p, sec / 60 % 60);
	*p++ = ':';
	p = put_2d(p, sec % 60);
	*p++ = 'Z';
	return p;
}

static char *write_track(struct gen *g, char *p, uint64_t k, const struct rev *rv)
{
	struct core c;
	int type = rec_type(g, k);
	core_of(g, k, type, &c);
	struct aplace ap;
	album_place(g, k, &ap);
	struct rng r = rseed(g->key[K_TRACK], k);
	char id[32], isrc[16];
	make_id(g, id, K_ID_TRACK, k);
	isrc_of(g, type == REC_ISRC ? isrc_root(g, k) : k, isrc);
	uint32_t bits = 64 - (uint32_t)__builtin_clzll(c.art[0] + 1);
	int pop = 78 - 3 * (int)bits + (int)rbelow(&r, 36) - 12;
	pop = pop < 0 ? 0 : pop > 100 ? 100 : pop;
	if (rv)
		pop = (pop + rv->pop_add) % 101;
	uint32_t namelen = c.namelen;

	if (g->layout == LAYOUT_API) {
		const struct album *al = album_get(g, &ap);
		uint64_t t = API_T0 + rbelow(&r, API_SPAN) + (rv ? rv->delta : 0);
		p = LIT(p, "{\"id\":\"");
		p = put_fast(p, id, 22);
		p = LIT(p, "\",\"name\":\"");
		p = put_fast(p, c.name, namelen);
		p = LIT(p, "\",\"artists\":[");
		for (uint32_t i = 0; i < c.nart; i++) {
			const struct aent *e = artist_get(g, c.art[i]);
			p = i ? LIT(p, ",{\"id\":\"") : LIT(p, "{\"id\":\"");
			p = put_fast(p, e->id, 22);
			p = LIT(p, "\",\"name\":\"");
			p = put_fast(p, e->name, e->len);
			p = LIT(p, "\"}");
		}
		p = LIT(p, "],\"album\":{\"id\":\"");
		p = put_fast(p, al->id, 22);
		p = LIT(p, "\",\"name\":\"");
		/* a one-track album (a single) is named after its track */
		if (ap.total == 1)
			p = put_fast(p, c.name, namelen);
		else
			p = put_fast(p, al->name, al->namelen);
		p = LIT(p, "\",\"release_date\":\"");
		p = put_fast(p, al->date, al->datelen);
		p = LIT(p, "\",\"album_type\":\"");
		p = put_mem(p, album_types[al->type].s, album_types[al->type].len);
		p = LIT(p, "\",\"total_tracks\":");
		p = put_u64(p, ap.total);
		p = LIT(p, "},\"duration_ms\":");
		p = put_u64(p, c.duration);
		p = c.explicit_ ? LIT(p, ",\"explicit\":true") : LIT(p, ",\"explicit\":false");
		p = LIT(p, ",\"external_ids\":{\"isrc\":\"");
		p = put_fast(p, isrc, 12);
		p = LIT(p, "\"},\"popularity\":");
		p = put_u64(p, (uint64_t)pop);
		p = LIT(p, ",\"disc_number\":");
		p = put_u64(p, ap.disc);
		p = LIT(p, ",\"track_number\":");
		p = put_u64(p, ap.trackno);
		p = LIT(p, ",\"fetched_at\":\"");
		p = put_iso(p, t);
		p = LIT(p, "\"}");
	} else {
		uint64_t t = DUMP_T0 + WEEK_MS * dump_week[rbelow(&r, 32)] + (rv ? rv->delta * 1000 : 0);
		uint32_t mk = rbelow(&r, 100);
		uint32_t markets = mk < 4 ? 1 : mk < 80 ? 3 : 2 + rbelow(&r, 7);
		p = LIT(p, "{\"rowid\":");
		p = put_u64(p, TRACK_ROWID0 + k);
		p = LIT(p, ",\"id\":\"");
		p = put_fast(p, id, 22);
		p = LIT(p, "\",\"fetched_at\":");
		p = put_u64(p, t);
		p = LIT(p, ",\"name\":\"");
		p = put_fast(p, c.name, namelen);
		if (markets == 1 || rchance(&r, 30)) {
			p = LIT(p, "\",\"preview_url\":null,\"album_rowid\":");
		} else {
			p = LIT(p, "\",\"preview_url\":\"https://p.scdn.co/mp3-preview/");
			/* 40 hex digits (160 bits), one byte at a time */
			uint64_t h[3] = { rnext(&r), rnext(&r), rnext(&r) };
			for (int i = 0; i < 20; i++, p += 2)
				memcpy(p, hexpair[(h[i >> 3] >> (8 * (i & 7))) & 255], 2);
			p = LIT(p, "?cid=65b708073fc0480ea92a077233ca87bd\",\"album_rowid\":");
		}
		p = put_u64(p, ALBUM_ROWID0 + ap.key);
		p = LIT(p, ",\"track_number\":");
		p = put_u64(p, ap.trackno);
		p = LIT(p, ",\"external_id_isrc\":\"");
		p = put_fast(p, isrc, 12);
		p = LIT(p, "\",\"popularity\":");
		p = put_u64(p, (uint64_t)pop);
		p = LIT(p, ",\"available_markets_rowid\":");
		p = put_u64(p, markets);
		p = LIT(p, ",\"disc_number\":");
		p = put_u64(p, ap.disc);
		p = LIT(p, ",\"duration_ms\":");
		p = put_u64(p, c.duration);
		p = c.explicit_ ? LIT(p, ",\"explicit\":1}") : LIT(p, ",\"explicit\":0}");
	}
	return p;
}

/* ---------------------------------------------------------------------------------
 * Artists (--kind artist): record k is artist k of the pool tracks draw from, so a
 * track file and an artist file made with the same seed agree on ids and names.
 */
static char *write_artist(struct gen *g, char *p, uint64_t k, const struct rev *rv)
{
	struct core c;
	int type = rec_type(g, k);
	uint64_t src = type == REC_PLAIN ? k : plain_source(g, near_source(g, k));
	const struct aent *e = artist_get(g, src);
	memcpy(c.name, e->name, e->len);
	c.namelen = e->len;
	c.nart = 0;
	uint32_t script = e->script;
	if (type == REC_NEAR)
		near_variant(g, k, &c);
	char id[32];
	/* a plain record k is pool artist k, as tracks credit it; a near-duplicate takes
	 * an id from the upper half of the id space, which no pool artist reaches */
	make_id(g, id, K_ID_ARTIST, type == REC_PLAIN ? k : k | (1ULL << 63));
	struct rng r = rseed(g->key[K_TRACK], k);
	/* followers fall with the artist's rank like the Zipf draws that credit them */
	uint64_t followers = below64(rnext(&r), 200000000ULL / (k + 1) + 60);
	uint32_t fb = 64 - (uint32_t)__builtin_clzll(followers + 1);
	int pop = (int)(fb * 3) + (int)rbelow(&r, 20) - 8;
	pop = pop < 0 ? 0 : pop > 100 ? 100 : pop;
	if (rv)
		pop = (pop + rv->pop_add) % 101;
	if (g->layout == LAYOUT_API) {
		uint64_t t = API_T0 + rbelow(&r, API_SPAN) + (rv ? rv->delta : 0);
		uint32_t ng = rbelow(&r, 100);
		ng = ng < 30 ? 0 : ng < 55 ? 1 : ng < 80 ? 2 : 3;
		p = LIT(p, "{\"id\":\"");
		p = put_fast(p, id, 22);
		p = LIT(p, "\",\"name\":\"");
		p = put_fast(p, c.name, c.namelen);
		p = LIT(p, "\",\"genres\":[");
		uint32_t prev = UINT32_MAX;
		for (uint32_t i = 0; i < ng; i++) {
			uint32_t gi = i == 0 ? script_genre[script][rbelow(&r, 4)] : rbelow(&r, NW(genres));
			if (gi == prev)
				gi = (gi + 1) % NW(genres);
			prev = gi;
			p = i ? LIT(p, ",\"") : LIT(p, "\"");
			p = put_word(p, &genres[gi]);
			*p++ = '"';
		}
		p = LIT(p, "],\"followers\":{\"total\":");
		p = put_u64(p, followers);
		p = LIT(p, "},\"popularity\":");
		p = put_u64(p, (uint64_t)pop);
		p = LIT(p, ",\"fetched_at\":\"");
		p = put_iso(p, t);
		p = LIT(p, "\"}");
	} else {
		uint64_t t = DUMP_T0 + WEEK_MS * dump_week[rbelow(&r, 32)] + (rv ? rv->delta * 1000 : 0);
		p = LIT(p, "{\"rowid\":");
		p = put_u64(p, k + 1);
		p = LIT(p, ",\"id\":\"");
		p = put_fast(p, id, 22);
		p = LIT(p, "\",\"fetched_at\":");
		p = put_u64(p, t);
		p = LIT(p, ",\"name\":\"");
		p = put_fast(p, c.name, c.namelen);
		p = LIT(p, "\",\"followers_total\":");
		p = put_u64(p, followers);
		p = LIT(p, ",\"popularity\":");
		p = put_u64(p, (uint64_t)pop);
		*p++ = '}';
	}
	return p;
}

/* The normal form of record k (optionally as revised), without the newline. */
static size_t write_record(struct gen *g, char *dst, uint64_t k, const struct rev *rv)
{
	char *e = g->kind == KIND_TRACK ? write_track(g, dst, k, rv) : write_artist(g, dst, k, rv);
	return (size_t)(e - dst);
}

/* ---------------------------------------------------------------------------------
 * Re-serialisations of a normal-form line that stay JSON-equal to it. They parse only
 * what this file writes: compact JSON whose strings hold no escapes but \" and \\.
 */
static const char *skip_string(const char *p)
{
	const char *s = ++p;
	for (;;) {
		p = rawmemchr(p, '"');
		/* escaped if preceded by an odd number of backslashes */
		const char *b = p;
		while (b > s && b[-1] == '\\')
			b--;
		if ((p - b) % 2 == 0)
			return p + 1;
		p++;
	}
}

static const char *skip_value(const char *p)
{
	if (*p == '"')
		return skip_string(p);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		do {
			if (*p == '"') {
				p = skip_string(p);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if (*p == '}' || *p == ']')
				depth--;
			p++;
		} while (depth);
		return p;
	}
	while (*p != ',' && *p != '}' && *p != ']')
		p++;
	return p;
}

struct wstyle {
	struct word colon, comma, open, close;
};
static const struct wstyle wstyles[] = {
	{ W(":"), W(","), W(""), W("") },
	{ W(": "), W(", "), W(""), W("") },
	{ W(" : "), W(" , "), W(" "), W(" ") },
	{ W(":\t"), W(",\t"), W(""), W("") },
	{ W(":"), W(", "), W(""), W("") },
};

static inline char *put_ws(char *p, const struct word *w)
{
	return put_mem(p, w->s, w->len);
}

/* Copy the value at *pp to p with every object's members shuffled (arrays keep their
 * order: it is significant). At the top level the order is made to differ. */
static char *reorder_value(const char **pp, char *p, struct rng *r, const struct wstyle *ws, int top)
{
	const char *s = *pp;
	if (*s == '{') {
		const char *ks[32], *vs[32];
		uint32_t n = 0, idx[32];
		s++;
		while (*s != '}') {
			ks[n] = s;
			s = skip_string(s) + 1; /* past ':' */
			vs[n] = s;
			s = skip_value(s);
			n++;
			if (*s == ',')
				s++;
		}
		*pp = s + 1;
		for (uint32_t i = 0; i < n; i++)
			idx[i] = i;
		for (uint32_t i = n; i > 1; i--) {
			uint32_t j = rbelow(r, i), t = idx[i - 1];
			idx[i - 1] = idx[j];
			idx[j] = t;
		}
		if (top && n >= 2) {
			uint32_t same = 1;
			for (uint32_t i = 0; i < n; i++)
				same &= idx[i] == i;
			if (same) {
				idx[0] = 1;
				idx[1] = 0;
			}
		}
		*p++ = '{';
		p = put_ws(p, &ws->open);
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				p = put_ws(p, &ws->comma);
			const char *ke = skip_string(ks[idx[i]]);
			p = put_mem(p, ks[idx[i]], (size_t)(ke - ks[idx[i]]));
			p = put_ws(p, &ws->colon);
			const char *v = vs[idx[i]];
			p = reorder_value(&v, p, r, ws, 0);
		}
		p = put_ws(p, &ws->close);
		*p++ = '}';
		return p;
	}
	if (*s == '[') {
		s++;
		*p++ = '[';
		int first = 1;
		while (*s != ']') {
			if (!first)
				p = put_ws(p, &ws->comma);
			first = 0;
			p = reorder_value(&s, p, r, ws, 0);
			if (*s == ',')
				s++;
		}
		*pp = s + 1;
		*p++ = ']';
		return p;
	}
	const char *e = skip_value(s);
	p = put_mem(p, s, (size_t)(e - s));
	*pp = e;
	return p;
}

static size_t reorder_line(const char *src, char *dst, struct rng *r)
{
	const struct wstyle *ws = &wstyles[rbelow(r, NW(wstyles))];
	char *p = dst;
	if (ws->open.len && rchance(r, 500))
		*p++ = ' ';
	const char *s = src;
	p = reorder_value(&s, p, r, ws, 1);
	if (ws->open.len && rchance(r, 500))
		*p++ = '\t';
	return (size_t)(p - dst);
}

static char *put_u16esc(char *p, unsigned cp, const char *hx)
{
	p[0] = '\\';
	p[1] = 'u';
	p[2] = hx[(cp >> 12) & 15];
	p[3] = hx[(cp >> 8) & 15];
	p[4] = hx[(cp >> 4) & 15];
	p[5] = hx[cp & 15];
	return p + 6;
}

/* The first occurrence of pat in s[0..n), or NULL. */
static const char *find_str(const char *s, size_t n, const char *pat)
{
	size_t m = strlen(pat);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(s + i, pat, m) == 0)
			return s + i;
	return NULL;
}

/* Write every non-ASCII character inside strings as \uXXXX (a surrogate pair above
 * U+FFFF), every '/' as \/ and some ASCII letters as \u00XX. If nothing changed (an
 * all-ASCII record without '/'), the first letter of the id is escaped, so that the
 * bytes always differ. */
static size_t escape_line(const char *src, size_t n, char *dst, struct rng *r, int force_id)
{
	const char *hx = rchance(r, 500) ? "0123456789abcdef" : "0123456789ABCDEF";
	/* every stride-th ASCII letter is escaped too: cheaper than a draw per letter */
	uint32_t stride = 12 + rbelow(r, 40), countdown = 1 + rbelow(r, 12);
	const unsigned char *s = (const unsigned char *)src, *end = s + n, *force_at = NULL;
	char *p = dst;
	int in = 0, changed = 0;
	if (force_id) /* the first character of the top-level id's value */
		force_at = (const unsigned char *)find_str(src, n, "\"id\":\"") + 6;
	while (s < end) {
		unsigned char b = *s;
		if (!in) {
			*p++ = (char)b;
			s++;
			in = b == '"';
			continue;
		}
		if (s == force_at) {
			p = put_u16esc(p, b, hx);
			s++;
		} else if (b == '"') {
			in = 0;
			*p++ = '"';
			s++;
		} else if (b == '\\') {
			*p++ = (char)s[0];
			*p++ = (char)s[1];
			s += 2;
		} else if (b == '/') {
			p = LIT(p, "\\/");
			s++;
			changed = 1;
		} else if (b < 0x80) {
			if ((b | 32) >= 'a' && (b | 32) <= 'z' && --countdown == 0) {
				countdown = stride;
				p = put_u16esc(p, b, hx);
				changed = 1;
			} else {
				*p++ = (char)b;
			}
			s++;
		} else {
			unsigned cp;
			if (b < 0xe0) {
				cp = (unsigned)(b & 0x1f) << 6 | (s[1] & 0x3f);
				s += 2;
			} else if (b < 0xf0) {
				cp = (unsigned)(b & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
				s += 3;
			} else {
				cp = (unsigned)(b & 0x07) << 18 | (unsigned)(s[1] & 0x3f) << 12
					| (unsigned)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
				s += 4;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				p = put_u16esc(p, 0xd800 | (cp >> 10), hx);
				p = put_u16esc(p, 0xdc00 | (cp & 0x3ff), hx);
			} else {
				p = put_u16esc(p, cp, hx);
			}
			changed = 1;
		}
	}
	if (!changed && !force_id)
		return escape_line(src, n, dst, r, 1);
	return (size_t)(p - dst);
}

/* ---------------------------------------------------------------------------------
 * Bad lines: each must be rejected by a strict JSON + UTF-8 parser that requires a
 * string "id" member, and must be exactly one line (no '\n' inside).
 */
static size_t bad_line(struct gen *g, uint64_t line, char *dst, int *type)
{
	struct rng r = rseed(g->key[K_BAD], line);
	uint32_t x = rbelow(&r, 100);
	uint64_t j = g->nkept ? below64(rnext(&r), g->nkept) : 0;
	char *src = g->scratch;
	size_t n = 0;
	if (x < 90)
		n = write_record(g, src, j, NULL);
	if (x < 20) {
		/* truncated: a proper prefix, cut on a character boundary so the line is
		 * still valid UTF-8 and the fault is only the grammar */
		*type = BAD_MALFORMED;
		size_t cut = 1 + below64(rnext(&r), n - 2);
		while (cut > 1 && ((unsigned char)src[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(dst, src, cut);
		return cut;
	}
	if (x < 30) {
		/* a missing quote: the closing quote of the first key or of the name */
		*type = BAD_MALFORMED;
		const char *q;
		if (rchance(&r, 500)) {
			q = skip_string(src + 1) - 1;
		} else {
			q = find_str(src, n, "\"name\":\"") + 7;
			q = skip_string(q) - 1;
		}
		size_t at = (size_t)(q - src);
		memcpy(dst, src, at);
		memcpy(dst + at, src + at + 1, n - at - 1);
		return n - 1;
	}
	if (x < 40) {
		/* a trailing comma before the closing brace */
		*type = BAD_MALFORMED;
		memcpy(dst, src, n - 1);
		dst[n - 1] = ',';
		dst[n] = '}';
		return n + 1;
	}
	if (x < 65) {
		/* invalid UTF-8 at the start of the name's value */
		static const struct word bad8[] = {
			W("\xff"), W("\xe9"), W("\xc0\xaf"), W("\xed\xa0\x80"), W("\xf4\x90\x80\x80"),
			W("\xe2\x82"), W("\xc3"), W("\x80"), W("\xfe\xfe"),
		};
		*type = BAD_UTF8;
		const struct word *b = PICK(&r, bad8);
		size_t at = (size_t)(find_str(src, n, "\"name\":\"") + 8 - src);
		char *p = put_mem(dst, src, at);
		p = put_mem(p, b->s, b->len);   /* not in the padded arena */
		p = put_mem(p, src + at, n - at);
		return (size_t)(p - dst);
	}
	if (x < 80) {
		/* no id: removed, null, or under another key ("ID", or Mongo-style "_id").
		 * A number is avoided: some readers take integer ids, which is a choice,
		 * not a fault of the line. */
		*type = BAD_NOID;
		const char *m = find_str(src, n, "\"id\":\"");
		const char *ve = skip_string(m + 5);
		size_t at = (size_t)(m - src), after = (size_t)(ve - src);
		char *p = put_mem(dst, src, at);
		uint32_t v = rbelow(&r, 4);
		if (v == 0) {
			after++; /* the ',' that followed the member */
		} else if (v == 1) {
			p = LIT(p, "\"id\":null");
		} else if (v == 2) {
			p = LIT(p, "\"_id\":");
			p = put_mem(p, m + 5, (size_t)(ve - m - 5));
		} else {
			p = LIT(p, "\"ID\":");
			p = put_mem(p, m + 5, (size_t)(ve - m - 5));
		}
		p = put_mem(p, src + after, n - after);
		return (size_t)(p - dst);
	}
	if (x < 90) {
		/* binary garbage: random bytes other than '\n', not starting like an object */
		*type = BAD_BINARY;
		size_t len = 8 + rbelow(&r, 600);
		for (size_t i = 0; i < len; i++) {
			unsigned char b = (unsigned char)rnext(&r);
			dst[i] = (char)(b == '\n' ? 0x0b : b);
		}
		unsigned char b0 = (unsigned char)dst[0];
		if (b0 == '{' || b0 == ' ' || b0 == '\t' || b0 == '\r' || b0 == 0x0b)
			dst[0] = (char)0xfe;
		return len;
	}
	/* empty, or only blanks */
	*type = BAD_EMPTY;
	if (rchance(&r, 800))
		return 0;
	dst[0] = ' ';
	dst[1] = '\t';
	dst[2] = ' ';
	return 1 + rbelow(&r, 3);
}

/* ---------------------------------------------------------------------------------
 * Output
 */
static void die_write(struct gen *g, int err)
{
	if (err == EPIPE)   /* the reader went away (SIGPIPE ignored): stop quietly */
		exit(EXIT_IO);
	fprintf(stderr, "gen: write error on '%s': %s\n", g->out_path ? g->out_path : "stdout",
		strerror(err));
	if (g->remove_on_error)
		unlink(g->out_path);
	exit(EXIT_IO);
}

/* --vmsplice: the pipe takes the buffer's pages themselves, not a copy. The buffer must
 * not be written again until the reader has read them, so three buffers take turns:
 * each flush hands over at least OUT_BUF - LINE_RESERVE bytes (240 pages), the pipe holds
 * at most 256 pages (checked when it is set up), so once the two flushes after a buffer
 * are in the pipe, none of that buffer's pages are left in it. Read(2) copies them out;
 * a reader that moves pages on with splice(2) instead (pv, tee) would pass on references
 * to a buffer that is written again: hence opt-in. */
static int flush_vmsplice(struct gen *g)
{
	size_t off = 0;
	while (off < g->pos) {
		struct iovec iov = { g->buf + off, g->pos - off };
		ssize_t w = vmsplice(g->fd, &iov, 1, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (off == 0 && (errno == EINVAL || errno == ENOSYS))
				return 0;   /* not supported here: write(2) from now on */
			die_write(g, errno);
		}
		off += (size_t)w;
	}
	g->vcur = (g->vcur + 1) % 3;
	g->buf = g->vbuf[g->vcur];
	g->pos = 0;
	return 1;
}

static void flush_out(struct gen *g)
{
	size_t off = 0;
	if (g->vmsplice && !flush_vmsplice(g))
		g->vmsplice = 0;
	while (off < g->pos) {
		ssize_t w = write(g->fd, g->buf + off, g->pos - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die_write(g, errno);
		}
		off += (size_t)w;
	}
	g->pos = 0;
	if (interrupted) {
		if (g->remove_on_error)
			unlink(g->out_path);
		exit(EXIT_INTERRUPTED);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* JSON text as written here (escapes only \" and \\) as the reader sees it. */
static void put_unescaped(FILE *f, const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		putc(s[i], f);
	}
}

/* --cluster-facts: what a clusterer reads of stored record k (FORMAT of the line in
 * bench/GEN.md): its id, ISRC, duration, title and credited artists, as the reader
 * decodes them. A revision is a version of k with the same facts. */
static void write_facts(struct gen *g, uint64_t k, int revision)
{
	struct core c;
	int type = rec_type(g, k);
	core_of(g, k, type, &c);
	char id[32], isrc[16];
	make_id(g, id, K_ID_TRACK, k);
	isrc_of(g, type == REC_ISRC ? isrc_root(g, k) : k, isrc);
	fprintf(g->facts, "%c\t%.22s\t%.12s\t%u\t", revision ? 'r' : 'n', id, isrc, c.duration);
	put_unescaped(g->facts, c.name, c.namelen);
	/* the dump's rows name no artists */
	for (uint32_t i = 0; g->layout == LAYOUT_API && i < c.nart; i++) {
		const struct aent *e = artist_get(g, c.art[i]);
		putc('\t', g->facts);
		put_unescaped(g->facts, e->name, e->len);
	}
	putc('\n', g->facts);
}

/* Pick an earlier record (0..nkept-1): a quarter uniformly, the rest at a Zipf-like
 * distance back, since re-fetches cluster in time. */
static uint64_t pick_earlier(struct gen *g, struct rng *lr)
{
	uint64_t h = rnext(lr);
	if ((h & 3) == 0)
		return below64(rnext(lr), g->nkept);
	return g->nkept - 1 - zipf_below(h >> 2, g->nkept);
}

static void generate(struct gen *g)
{
	struct rng lr = rseed(g->key[K_LINE], 0);
	struct truth *tr = &g->tr;
	for (uint64_t n = 0; n < g->count; n++) {
		if (g->pos > OUT_BUF - LINE_RESERVE)
			flush_out(g);
		char *p = g->buf + g->pos;
		uint64_t u = rnext(&lr) >> 11;
		int what = u < g->t_bad ? LN_BAD : u < g->t_exact ? LN_EXACT : u < g->t_reorder ? LN_REORDER
			: u < g->t_escape ? LN_ESCAPE : u < g->t_rev ? LN_REVISION : LN_NEW;
		if (what != LN_BAD && what != LN_NEW && g->nkept == 0)
			what = LN_NEW;   /* nothing to repeat yet */
		size_t len;
		switch (what) {
		case LN_NEW: {
			uint64_t k = g->nkept++;
			len = write_record(g, p, k, NULL);
			if (g->facts)
				write_facts(g, k, 0);
			int t = rec_type(g, k);
			if (t == REC_NEAR)
				tr->near++;
			if (g->kind == KIND_TRACK) {
				if (t == REC_ISRC) {
					/* the owner's group already has two members if the owner is
					 * itself a re-use or was re-used before (its ring bit) */
					uint64_t o = isrc_owner(g, k);
					uint8_t *byte = &g->isrc_ring[(o % ISRC_WINDOW) >> 3];
					uint8_t bit = (uint8_t)(1u << (o & 7));
					tr->isrc_reuses++;
					if (rec_type(g, o) == REC_ISRC || (*byte & bit)) {
						tr->isrc_shared += 1;
					} else {
						tr->isrc_shared += 2;
						*byte |= bit;
					}
				} else {
					tr->distinct_isrcs++;
				}
				g->isrc_ring[(k % ISRC_WINDOW) >> 3] &= (uint8_t)~(1u << (k & 7));
			}
			break;
		}
		case LN_EXACT:
			len = write_record(g, p, pick_earlier(g, &lr), NULL);
			tr->exact++;
			break;
		case LN_REORDER: {
			size_t m = write_record(g, g->scratch2, pick_earlier(g, &lr), NULL);
			g->scratch2[m] = 0;
			len = reorder_line(g->scratch2, p, &lr);
			tr->reordered++;
			break;
		}
		case LN_ESCAPE: {
			size_t m = write_record(g, g->scratch2, pick_earlier(g, &lr), NULL);
			len = escape_line(g->scratch2, m, p, &lr, 0);
			tr->escaped++;
			break;
		}
		case LN_REVISION: {
			/* fetched_at moves by a counter no other version of any id has used */
			struct rev rv = { ++g->nrev, 0 };
			uint64_t j = pick_earlier(g, &lr);
			/* half the time also a popularity that differs from the base one */
			if (rnext(&lr) & 1)
				rv.pop_add = 1 + (int)rbelow(&lr, 100);
			len = write_record(g, p, j, &rv);
			if (g->facts)
				write_facts(g, j, 1);
			tr->revisions++;
			break;
		}
		default: {
			int bt;
			len = bad_line(g, n, p, &bt);
			tr->bad[bt]++;
			break;
		}
		}
		p[len++] = '\n';
		g->pos += len;
		tr->bytes += len;
	}
	tr->lines = g->count;
	tr->kept = g->nkept;
	flush_out(g);
}

/* ---------------------------------------------------------------------------------
 * Listening histories (--kind listen): Spotify's streaming-history exports as one JSON
 * array, one play an element and a line. Member m's plays are a pure function of (seed,
 * m) in order, so the first N plays of a member are the same at any --count: a run with
 * a larger --count is a newer export that contains the older one. A member listens in
 * sessions (consecutive plays, then a pause of hours), mostly from a library of its own
 * tracks (so a track recurs at other times), with a few podcast episodes, audiobook
 * chapters and plays in a private session; Spotify's own repeated rows come at
 * --dup-rate. Layouts: extended (generation 2, Streaming_History_Audio_*.json), endsong
 * (generation 1, with username and user agent), basic (StreamingHistory_music_*.json).
 */
enum { LL_EXTENDED = LAYOUT_DUMP + 1, LL_ENDSONG, LL_BASIC };

static const char *const listen_countries[] = { "US", "DE", "GB", "FR", "BR", "SE", "MX", "NL", "ES", "IT", "CA",
	"AU", "PL", "JP", "IN", "NO", "FI", "DK", "AT", "LU" };
static const char *const listen_platforms[2][6] = {
	{ "android", "ios", "windows", "osx", "linux", "web_player" },
	{ "Android OS 10 API 29 (samsung, SM-G973F)", "iOS 14.4 (iPhone12,1)", "Windows 10 (10.0.19041; x64)",
	  "OS X 10.15.7 [x86 8]", "Linux [x86-64 0]", "WebPlayer (websocket RFC6455)" } };

struct member {
	struct rng r;
	uint64_t m, t;               /* its number, the time of its next play (s) */
	uint32_t lib;                /* tracks in its library */
	const char *country, *platform;
	unsigned ip[4];
};

static void member_init(const struct gen *g, struct member *mb, uint64_t m)
{
	mb->m = m;
	mb->r = rseed(g->key[K_OWNER] ^ 0x6c697374656eULL, m);
	mb->t = 1546300800 + rbelow(&mb->r, 730) * 86400ULL + rbelow(&mb->r, 86400);   /* from 2019 */
	mb->lib = 200 + rbelow(&mb->r, 3000);
	mb->country = listen_countries[zipf_below(rnext(&mb->r), 20)];
	mb->platform = listen_platforms[g->layout == LL_ENDSONG][rbelow(&mb->r, 6)];
	for (int i = 0; i < 4; i++)
		mb->ip[i] = 1 + rbelow(&mb->r, 254);
}

/* One play of member mb into p (no newline): its time advances past it. */
static size_t listen_play(const struct gen *g, struct member *mb, char *p)
{
	struct rng *r = &mb->r;
	uint32_t ms = 20000 + rbelow(r, 280000);
	if (rchance(r, 300))
		ms = rbelow(r, 30000);   /* skipped */
	mb->t += ms / 1000 + (rchance(r, 30) ? 1800 + rbelow(r, 43200) : rbelow(r, 5));
	uint32_t what = rbelow(r, 1000);   /* < 50 an episode, < 55 a chapter, else a track */
	uint64_t item = what < 55 ? rnext(r) % 50000 : (rchance(r, 850) ? hk(mb->m, rbelow(r, mb->lib)) % 2000000
		: rnext(r) % 2000000);
	int incog = rchance(r, 2), shuffle = rchance(r, 400), skipped = ms < 30000;
	char id[23], ts[24], *q = ts;
	make_id(g, id, what < 55 ? K_ID_ALBUM : K_ID_TRACK, item);
	id[22] = 0;
	q = put_iso(q, mb->t);
	*q = 0;
	if (g->layout == LL_BASIC) {
		/* endTime to the minute */
		ts[10] = ' ';
		ts[16] = 0;
		return (size_t)sprintf(p, "{\"endTime\":\"%s\",\"artistName\":\"Artist %" PRIu64 "\",\"trackName\":\"Song %.8s\","
			"\"msPlayed\":%u}", ts, item % 40000, id, ms);
	}
	char ipbuf[64], user[64];
	snprintf(ipbuf, sizeof ipbuf, "%u.%u.%u.%u", mb->ip[0], mb->ip[1], mb->ip[2], mb->ip[3]);
	snprintf(user, sizeof user, "member%" PRIu64, mb->m);
	char *s = p;
	s += sprintf(s, "{\"ts\":\"%s\",", ts);
	if (g->layout == LL_ENDSONG)
		s += sprintf(s, "\"username\":\"%s\",", user);
	s += sprintf(s, "\"platform\":\"%s\",\"ms_played\":%u,\"conn_country\":\"%s\",\"%s\":\"%s\",", mb->platform, ms,
		mb->country, g->layout == LL_ENDSONG ? "ip_addr_decrypted" : "ip_addr", ipbuf);
	if (g->layout == LL_ENDSONG)
		s += sprintf(s, "\"user_agent_decrypted\":\"unknown\",");
	if (what >= 55)
		s += sprintf(s, "\"master_metadata_track_name\":\"Song %.8s\",\"master_metadata_album_artist_name\":\"Artist %"
			PRIu64 "\",\"master_metadata_album_album_name\":\"Album %" PRIu64 "\",\"spotify_track_uri\":\"spotify:track:%s\","
			"\"episode_name\":null,\"episode_show_name\":null,\"spotify_episode_uri\":null,", id, item % 40000, item % 150000, id);
	else if (what < 50)
		s += sprintf(s, "\"master_metadata_track_name\":null,\"master_metadata_album_artist_name\":null,"
			"\"master_metadata_album_album_name\":null,\"spotify_track_uri\":null,\"episode_name\":\"Episode %.6s\","
			"\"episode_show_name\":\"Show %" PRIu64 "\",\"spotify_episode_uri\":\"spotify:episode:%s\",", id, item % 900, id);
	else
		s += sprintf(s, "\"master_metadata_track_name\":null,\"master_metadata_album_artist_name\":null,"
			"\"master_metadata_album_album_name\":null,\"spotify_track_uri\":null,\"episode_name\":null,"
			"\"episode_show_name\":null,\"spotify_episode_uri\":null,");
	if (g->layout == LL_EXTENDED) {
		if (what >= 50 && what < 55)
			s += sprintf(s, "\"audiobook_title\":\"Book %" PRIu64 "\",\"audiobook_uri\":\"spotify:show:%.11s\","
				"\"audiobook_chapter_uri\":\"spotify:episode:%s\",\"audiobook_chapter_title\":\"Chapter %" PRIu64 "\",",
				item % 300, id, id, item % 40);
		else
			s += sprintf(s, "\"audiobook_title\":null,\"audiobook_uri\":null,\"audiobook_chapter_uri\":null,"
				"\"audiobook_chapter_title\":null,");
	}
	s += sprintf(s, "\"reason_start\":\"%s\",\"reason_end\":\"%s\",\"shuffle\":%s,\"skipped\":%s,\"offline\":%s,"
		"\"offline_timestamp\":%" PRIu64 ",\"incognito_mode\":%s}", skipped ? "fwdbtn" : "trackdone",
		skipped ? "fwdbtn" : "trackdone", shuffle ? "true" : "false", skipped ? "true" : "false",
		rchance(r, 50) ? "true" : "false", mb->t - ms / 1000, incog ? "true" : "false");
	return (size_t)(s - p);
}

/* --count plays of each of --members members (numbered from --member-base), member by
 * member, with Spotify's repeated rows mixed in. */
static void generate_listen(struct gen *g)
{
	struct rng lr = rseed(g->key[K_LINE], 0);
	struct truth *tr = &g->tr;
	uint64_t nlines = 0;
	g->pos = (size_t)sprintf(g->buf, "[\n");
	for (uint64_t m = g->member_base; m < g->member_base + g->members; m++) {
		struct member mb;
		member_init(g, &mb, m);
		for (uint64_t n = 0; n < g->count; n++) {
			size_t len = listen_play(g, &mb, g->scratch);
			/* Spotify's export sometimes repeats the row */
			int times = (rnext(&lr) >> 11) < g->t_exact - g->t_bad ? 2 : 1;
			for (int k = 0; k < times; k++) {
				if (g->pos > OUT_BUF - LINE_RESERVE)
					flush_out(g);
				if (nlines++)
					g->pos += (size_t)sprintf(g->buf + g->pos, ",\n");
				memcpy(g->buf + g->pos, g->scratch, len);
				g->pos += len;
			}
			tr->exact += times - 1;
		}
	}
	g->pos += (size_t)sprintf(g->buf + g->pos, "\n]\n");
	tr->lines = nlines;
	tr->kept = nlines - tr->exact;
	flush_out(g);
}

/* ---------------------------------------------------------------------------------
 * Truth
 */
static int write_truth(const struct gen *g, const char *path)
{
	const struct truth *t = &g->tr;
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!f) {
		fprintf(stderr, "gen: cannot open '%s': %s\n", path, strerror(errno));
		return EXIT_IO;
	}
	uint64_t dups = t->exact + t->reordered + t->escaped;
	uint64_t rejected = 0;
	for (int i = 0; i < BAD_N; i++)
		rejected += t->bad[i];
	uint64_t mean10 = t->lines ? (t->bytes * 10 + t->lines / 2) / t->lines : 0;
	fprintf(f,
		"{\"lines\":%llu,\"kept\":%llu,\"duplicates\":%llu,\"revisions\":%llu,\"rejected\":%llu,"
		"\"duplicates_ignoring_volatile\":%llu,\"revisions_ignoring_volatile\":0,"
		"\"exact_dups\":%llu,\"reordered_dups\":%llu,\"escaped_dups\":%llu,\"near_dups\":%llu,"
		"\"isrc_shared\":%llu,\"isrc_reuses\":%llu,\"distinct_isrcs\":%llu,"
		"\"bad_malformed\":%llu,\"bad_utf8\":%llu,\"bad_noid\":%llu,\"bad_binary\":%llu,"
		"\"bad_empty\":%llu,\"bytes\":%llu,\"mean_line_bytes\":%llu.%llu,\"seed\":%llu,"
		"\"kind\":\"%s\",\"layout\":\"%s\",\"volatile_fields\":[\"fetched_at\",\"popularity\"]}\n",
		(unsigned long long)t->lines, (unsigned long long)t->kept, (unsigned long long)dups,
		(unsigned long long)t->revisions, (unsigned long long)rejected,
		(unsigned long long)(dups + t->revisions), (unsigned long long)t->exact,
		(unsigned long long)t->reordered, (unsigned long long)t->escaped,
		(unsigned long long)t->near, (unsigned long long)t->isrc_shared,
		(unsigned long long)t->isrc_reuses, (unsigned long long)t->distinct_isrcs,
		(unsigned long long)t->bad[BAD_MALFORMED], (unsigned long long)t->bad[BAD_UTF8],
		(unsigned long long)t->bad[BAD_NOID], (unsigned long long)t->bad[BAD_BINARY],
		(unsigned long long)t->bad[BAD_EMPTY], (unsigned long long)t->bytes,
		(unsigned long long)(mean10 / 10), (unsigned long long)(mean10 % 10),
		(unsigned long long)g->seed, g->kind == KIND_TRACK ? "track" : "artist",
		g->layout == LAYOUT_API ? "api" : "dump");
	int bad = ferror(f);
	if (f == stdout)
		bad |= fflush(f) != 0;
	else
		bad |= fclose(f) != 0;
	if (bad) {
		fprintf(stderr, "gen: write error on '%s': %s\n", path, strerror(errno));
		return EXIT_IO;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------
 * Command line
 */
static const char usage_text[] =
	"usage: bench/gen [options]\n"
	"Write deterministic, realistic Spotify-like JSONL records (tracks or artists) with\n"
	"duplicates, revisions and bad lines mixed in at chosen rates, and optionally the\n"
	"exact counts a correct deduplicator must report. Same options, same bytes.\n"
	"\n"
	"  -n, --count N          lines to write, bad and repeated ones included (default 1000);\n"
	"                         suffixes k, M, G multiply by 10^3, 10^6, 10^9\n"
	"  -s, --seed N           seed, any 64-bit unsigned number (default 1)\n"
	"      --kind track|artist|listen   what the records describe (default track); listen:\n"
	"                               streaming-history plays as one JSON array, --count\n"
	"                               plays per member, Spotify's repeated rows at --dup-rate (1%)\n"
	"      --members N, --member-base B   listen: members B..B+N-1 (default 1 and 0)\n"
	"      --layout api|dump        Spotify Web API objects, or the flat rows of the 2025\n"
	"                               metadata dump (default api); listen: extended\n"
	"                               (generation 2), endsong (generation 1) or basic\n"
	"  -o, --output FILE      write to FILE instead of stdout ('-' is stdout); removed\n"
	"                         again on a write error or an interrupt\n"
	"  -t, --truth FILE       write the expected deduplication counts as one JSON object\n"
	"                         ('-' is stdout, only with -o FILE)\n"
	"      --cluster-facts FILE     write what a clusterer reads of every stored track, one\n"
	"                               line each, for bench/ctruth (the clusters' truth)\n"
	"\n"
	"Rates are fractions of all lines, written 0.05 or 5%; 0 turns a kind off:\n"
	"      --dup-rate R           byte-identical repeat of an earlier record (0.05)\n"
	"      --reorder-rate R       earlier record, keys re-ordered, other whitespace (0.02)\n"
	"      --escape-rate R        earlier record, non-ASCII as \\uXXXX and / as \\/ (0.02)\n"
	"      --revision-rate R      earlier id, new fetched_at, sometimes new popularity (0.03)\n"
	"      --isrc-share-rate R    new track carrying an earlier track's ISRC (0.02; tracks)\n"
	"      --near-rate R          new id, title of an earlier record slightly changed (0.02)\n"
	"      --bad-rate R           malformed JSON, bad UTF-8, no id, binary, empty (0.005)\n"
	"      --clean                every rate 0 unless given explicitly: unique records only\n"
	"      --vmsplice             to a pipe, hand over the output's pages instead of copying\n"
	"                             them (vmsplice(2)): less CPU, for a reader that reads with\n"
	"                             read(2) (winnow, cat), not for one that splices (pv, tee)\n"
	"  -h, --help             show this help and exit\n"
	"\n"
	"Exit status: 0 ok, 2 usage error, 3 I/O error, 130 interrupted.\n"
	"See bench/GEN.md for the record layouts and the meaning of every truth key.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "gen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'bench/gen --help' for more information.\n");
	exit(EXIT_USAGE);
}

static int parse_u64(const char *s, uint64_t *out, int suffixes)
{
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p++ - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (suffixes && *p) {
		uint64_t m = *p == 'k' || *p == 'K' ? 1000ULL : *p == 'm' || *p == 'M' ? 1000000ULL
			: *p == 'g' || *p == 'G' ? 1000000000ULL : 0;
		if (!m || p[1] || v > UINT64_MAX / m)
			return -1;
		v *= m;
		p++;
	}
	if (*p)
		return -1;
	*out = v;
	return 0;
}

static int parse_rate(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno)
		return -1;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

enum { R_DUP, R_REORDER, R_ESCAPE, R_REV, R_ISRC, R_NEAR, R_BAD, R_N };
static const char *const rate_names[R_N] = {
	"--dup-rate", "--reorder-rate", "--escape-rate", "--revision-rate", "--isrc-share-rate",
	"--near-rate", "--bad-rate",
};
static const double rate_defaults[R_N] = { 0.05, 0.02, 0.02, 0.03, 0.02, 0.02, 0.005 };

static uint64_t th53(double r)
{
	return (uint64_t)(r * 9007199254740992.0 + 0.5);
}

int main(int argc, char **argv)
{
	static struct gen G;
	struct gen *g = &G;
	double rate[R_N];
	int rate_set[R_N] = { 0 }, clean = 0;
	const char *truth_path = NULL, *out_path = NULL, *layout_name = NULL, *facts_path = NULL;
	g->seed = 1;
	g->count = 1000;
	g->members = 1;
	for (int i = 0; i < R_N; i++)
		rate[i] = rate_defaults[i];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		char name[64];
		/* accept both "--opt value" and "--opt=value" */
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		if (eq && (size_t)(eq - a) < sizeof(name)) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = 0;
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a);
		}
		/* the option's value: after '=', or else the next argument */
#define NEEDVAL() \
	do { \
		if (!val) { \
			if (i + 1 >= argc) \
				usage_error("option '%s' needs a value", name); \
			val = argv[++i]; \
		} \
	} while (0)
		if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
			fputs(usage_text, stdout);
			return fflush(stdout) ? EXIT_IO : 0;
		} else if (!strcmp(name, "--clean") && !val) {
			clean = 1;
		} else if (!strcmp(name, "--vmsplice") && !val) {
			g->vmsplice = 1;
		} else if (!strcmp(name, "-n") || !strcmp(name, "--count")) {
			NEEDVAL();
			if (parse_u64(val, &g->count, 1))
				usage_error("invalid count '%s'", val);
		} else if (!strcmp(name, "-s") || !strcmp(name, "--seed")) {
			NEEDVAL();
			if (parse_u64(val, &g->seed, 0))
				usage_error("invalid seed '%s'", val);
		} else if (!strcmp(name, "--kind")) {
			NEEDVAL();
			if (!strcmp(val, "track"))
				g->kind = KIND_TRACK;
			else if (!strcmp(val, "artist"))
				g->kind = KIND_ARTIST;
			else if (!strcmp(val, "listen"))
				g->kind = KIND_LISTEN;
			else
				usage_error("unknown kind '%s' (track, artist or listen)", val);
		} else if (!strcmp(name, "--layout")) {
			NEEDVAL();
			if (!strcmp(val, "api"))
				g->layout = LAYOUT_API;
			else if (!strcmp(val, "dump"))
				g->layout = LAYOUT_DUMP;
			else if (!strcmp(val, "extended"))
				g->layout = LL_EXTENDED;
			else if (!strcmp(val, "endsong"))
				g->layout = LL_ENDSONG;
			else if (!strcmp(val, "basic"))
				g->layout = LL_BASIC;
			else
				usage_error("unknown layout '%s' (api or dump; for listen extended, endsong or basic)", val);
			layout_name = val;
		} else if (!strcmp(name, "--members") || !strcmp(name, "--member-base")) {
			NEEDVAL();
			uint64_t v;
			int many = !strcmp(name, "--members");
			if (parse_u64(val, &v, 1) || (!v && many))
				usage_error("invalid number of members '%s'", val);
			*(many ? &g->members : &g->member_base) = v;
		} else if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
			NEEDVAL();
			out_path = val;
		} else if (!strcmp(name, "-t") || !strcmp(name, "--truth")) {
			NEEDVAL();
			truth_path = val;
		} else if (!strcmp(name, "--cluster-facts")) {
			NEEDVAL();
			facts_path = val;
		} else {
			int r;
			for (r = 0; r < R_N; r++)
				if (!strcmp(name, rate_names[r]))
					break;
			if (r == R_N)
				usage_error("unknown option '%s'", a);
			NEEDVAL();
			if (parse_rate(val, &rate[r]))
				usage_error("invalid rate '%s' (a number from 0 to 1, or a percentage)", val);
			rate_set[r] = 1;
		}
#undef NEEDVAL
	}
	if (clean)
		for (int r = 0; r < R_N; r++)
			if (!rate_set[r])
				rate[r] = 0;
	if (g->kind == KIND_LISTEN) {
		/* plays: only Spotify's repeated rows, at --dup-rate (default 1%) */
		if (layout_name && g->layout == LAYOUT_API)
			usage_error("layout '%s' is not one of listen's (extended, endsong, basic)", layout_name);
		if (!layout_name)
			g->layout = LL_EXTENDED;
		for (int r = 0; r < R_N; r++)
			if (r != R_DUP)
				rate[r] = 0;
		if (!rate_set[R_DUP] && !clean)
			rate[R_DUP] = 0.01;
	} else if (layout_name && g->layout > LAYOUT_DUMP) {
		usage_error("layout '%s' is listen's", layout_name);
	}
	if (g->kind == KIND_ARTIST)
		rate[R_ISRC] = 0;   /* artists have no ISRC */
	double sum = 0;
	for (int r = 0; r < R_N; r++)
		sum += rate[r];
	if (sum > 1 + 1e-9)
		usage_error("the rates add up to more than 1%s", "");
	if (out_path && !strcmp(out_path, "-"))
		out_path = NULL;
	if (truth_path && !strcmp(truth_path, "-") && !out_path)
		usage_error("'--truth -' needs the data in a file (-o FILE)%s", "");
	if (facts_path && g->kind != KIND_TRACK)
		usage_error("--cluster-facts is for tracks%s", "");
	if (facts_path && !strcmp(facts_path, "-"))
		usage_error("--cluster-facts needs a file%s", "");

	/* thresholds: one uniform draw per line picks its kind */
	g->t_bad = th53(rate[R_BAD]);
	g->t_exact = g->t_bad + th53(rate[R_DUP]);
	g->t_reorder = g->t_exact + th53(rate[R_REORDER]);
	g->t_escape = g->t_reorder + th53(rate[R_ESCAPE]);
	g->t_rev = g->t_escape + th53(rate[R_REV]);
	double fresh = 1 - (rate[R_BAD] + rate[R_DUP] + rate[R_REORDER] + rate[R_ESCAPE] + rate[R_REV]);
	if (fresh > 1e-12) {
		double pn = rate[R_NEAR] / fresh, pi = rate[R_ISRC] / fresh;
		if (pn + pi > 1)
			pn = pn / (pn + pi), pi = 1 - pn;
		g->t_near = th53(pn);
		g->t_isrc = th53(pi);
	}
	/* one key per hash stream, all from the seed */
	for (int i = 0; i < K_N; i++)
		g->key[i] = mix64(g->seed * 0x9e3779b97f4a7c15ULL
			+ mix64((uint64_t)i + (uint64_t)0x5851f42d4c957f2dULL));
	/* the ISRC bijection: a multiplier coprime to ISRC_GROUPS (whose only prime factors
	 * are 2, 3 and 5) and an offset, both from the seed */
	g->isrc_mul = (g->key[K_ISRC] % (1ULL << 30)) | 1;
	while (g->isrc_mul % 3 == 0 || g->isrc_mul % 5 == 0)
		g->isrc_mul += 2;
	g->isrc_add = mix64(g->key[K_ISRC]) % ISRC_GROUPS;

	g->buf = malloc(OUT_BUF);
	g->scratch = malloc(LINE_RESERVE);
	g->scratch2 = malloc(LINE_RESERVE);
	g->isrc_ring = calloc(ISRC_WINDOW / 8, 1);
	g->acache = malloc(sizeof(struct aent) * ACACHE);
	g->alcache = malloc(sizeof(struct album) * ALCACHE);
	if (!g->buf || !g->scratch || !g->scratch2 || !g->isrc_ring || !g->acache || !g->alcache) {
		fprintf(stderr, "gen: out of memory\n");
		return EXIT_IO;
	}
	for (int i = 0; i < ACACHE; i++)
		g->acache[i].idx = UINT64_MAX;
	for (int i = 0; i < ALCACHE; i++)
		g->alcache[i].key = UINT64_MAX;
	g->blk = UINT64_MAX;
	g->pl_key = UINT64_MAX;
	b62_init();
	iso_init();
	if (words_init()) {
		fprintf(stderr, "gen: out of memory\n");
		return EXIT_IO;
	}

	if (out_path) {
		g->vmsplice = 0;   /* pipes only */
		g->fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (g->fd < 0) {
			fprintf(stderr, "gen: cannot open '%s': %s\n", out_path, strerror(errno));
			return EXIT_IO;
		}
		g->out_path = out_path;
		/* never remove a device or a pipe (think of -o /dev/full) */
		struct stat st;
		g->remove_on_error = fstat(g->fd, &st) == 0 && S_ISREG(st.st_mode);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	} else {
		g->fd = 1;
		/* a larger pipe means fewer wake-ups of the reader and of us */
		struct stat st;
		if (fstat(1, &st) == 0 && S_ISFIFO(st.st_mode))
			(void)fcntl(1, F_SETPIPE_SZ, 1 << 20);
		int psize = S_ISFIFO(st.st_mode) ? fcntl(1, F_GETPIPE_SZ) : -1;
		if (g->vmsplice && psize > 0 && psize <= 256 * 4096) {
			for (int i = 0; i < 3 && g->vmsplice; i++)
				if (!(g->vbuf[i] = aligned_alloc(4096, OUT_BUF)))
					g->vmsplice = 0;
			if (g->vmsplice) {
				free(g->buf);
				g->buf = g->vbuf[0];
			}
		} else {
			g->vmsplice = 0;   /* not a pipe, or one too large for the three buffers */
		}
	}

	if (facts_path && !(g->facts = fopen(facts_path, "w"))) {
		fprintf(stderr, "gen: cannot open '%s': %s\n", facts_path, strerror(errno));
		return EXIT_IO;
	}

	if (g->kind == KIND_LISTEN)
		generate_listen(g);
	else
		generate(g);

	if (out_path && close(g->fd) != 0)
		die_write(g, errno);
	if (g->facts && (ferror(g->facts) | fclose(g->facts))) {
		fprintf(stderr, "gen: cannot write '%s'\n", facts_path);
		return EXIT_IO;
	}
	if (truth_path)
		return write_truth(g, truth_path);
	return 0;
}
