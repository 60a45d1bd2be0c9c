/*
 * update-publish device client in one file of plain Java 17: only JDK APIs
 * that Android has too (java.util.zip.ZipInputStream, java.security Ed25519,
 * javax.crypto AES/GCM, java.net.HttpURLConnection, java.nio.file, java.time).
 * No third-party jars. Written from PROTOCOL.md, independently of the
 * TypeScript client, and checked against the same conformance vectors.
 *
 *   java UpdateClient.java <package> --from <base-url> --into <dir> [--channel C] [--platform P]
 *       [--app-version V] [--device-id D] [--attr k=v,...] [--public-key FILE]...
 *       [--decryption-key env:NAME]... [--now ISO] [--deadline SECONDS]
 *   java UpdateClient.java switch resolve --from <base-url> --device-id D [--channel C] [--platform P]
 *       [--app-version V] [--attr k=v,...] [--now ISO] [--public-key FILE]...
 *   java UpdateClient.java app-release resolve --from <base-url> --platform P --app-version V
 *       [--device-id D] [--channel C] [--attr k=v,...] [--now ISO] [--public-key FILE]...
 *   java UpdateClient.java --conformance <vector-file>...
 *
 * Prints one JSON line (the result, or {"error":{"message","exitCode"}}) and
 * exits 0, 1 (the store, the network or what they served is wrong: refused)
 * or 2 (a wrong argument). See README.md beside this file.
 */

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

public final class UpdateClient {
    private UpdateClient() {}

    /**
     * For apps: what the command line does, without printing or exiting.
     * Returns the result (the fields of the JSON line); throws a Refusal
     * (exitCode 1 or 2, message naming the problem) when it installs nothing.
     * Blocks on the network: call it off the main thread.
     */
    public static Map<String, Object> fetch(String... args) throws Refusal, IOException {
        return Installer.fetch(Options.parse(args));
    }

    /**
     * A private store's credentials (PROTOCOL.md "Private stores"): returns the
     * JSON `update-publish access sign --json` prints (signed cookies or a
     * signed URL), e.g. from the app's backend behind its login. Called before
     * the first private request and once more when the store answers 403.
     */
    public interface Credentials {
        String get() throws Exception;
    }

    /** fetch for a private store: the callback hands the device its entitlement. */
    public static Map<String, Object> fetch(Credentials credentials, String... args) throws Refusal, IOException {
        Options options = Options.parse(args);
        options.credentials = credentials;
        return Installer.fetch(options);
    }

    /**
     * For apps: every switch's value for this device and why, as `update-publish switch resolve` decides
     * (args as its: --from URL --device-id D [--channel C] [--platform P] [--app-version V] [--attr k=v,...]
     * [--now ISO] [--public-key FILE]...). Returns { channel, documentVersion, deviceId, values, reasons }.
     */
    public static Map<String, Object> switches(String... args) throws Refusal, IOException {
        return ChannelDocuments.read("switch", DeviceOptions.parse("switch", Arrays.asList(args)));
    }

    /**
     * For apps: whether to upgrade the app binary, and must, as `update-publish app-release resolve` decides
     * (args as its: --from URL --platform P --app-version V [--device-id D] [--channel C] [--attr k=v,...]
     * [--now ISO] [--public-key FILE]...). Returns { channel, documentVersion, update, latest, url, force, message, reason }.
     */
    public static Map<String, Object> appUpgrade(String... args) throws Refusal, IOException {
        return ChannelDocuments.read("app-release", DeviceOptions.parse("app-release", Arrays.asList(args)));
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        int exitCode;
        try {
            if (args.length > 0 && args[0].equals("--conformance")) {
                exitCode = Conformance.run(Arrays.asList(args).subList(1, args.length), out, err);
            } else if (args.length > 0 && (args[0].equals("switch") || args[0].equals("app-release"))) {
                if (args.length < 2 || !args[1].equals("resolve")) throw Refusal.input("usage: java UpdateClient.java " + args[0] + " resolve --from <base-url> ...; see --help");
                Map<String, Object> result = ChannelDocuments.read(args[0], DeviceOptions.parse(args[0], Arrays.asList(args).subList(2, args.length)));
                out.println(Json.write(result));
                exitCode = 0;
            } else {
                Map<String, Object> result = Installer.fetch(Options.parse(args));
                out.println(Json.write(result));
                exitCode = 0;
            }
        } catch (Refusal refusal) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("message", refusal.getMessage());
            error.put("exitCode", (double) refusal.exitCode);
            out.println(Json.write(Map.of("error", error)));
            err.println("error: " + refusal.getMessage());
            exitCode = refusal.exitCode;
        } catch (Exception unexpected) {
            // Not a refusal the protocol describes: say so, so it is reported rather than taken for a bad store.
            String message = "unexpected error: " + unexpected + " (a bug in this client)";
            out.println(Json.write(Map.of("error", Map.of("message", message, "exitCode", 1.0))));
            err.println("error: " + message);
            unexpected.printStackTrace(err);
            exitCode = 1;
        }
        System.exit(exitCode);
    }

    // ------------------------------------------------------------------ errors

    /** A refusal: one line naming the problem and the fix. Exit 2 for a wrong argument, 1 for everything the store or network got wrong. */
    public static class Refusal extends Exception {
        public final int exitCode;

        Refusal(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        static Refusal input(String message) {
            return new Refusal(message, 2);
        }

        static Refusal source(String message) {
            return new Refusal(message, 1);
        }
    }

    /** The package or an object is not what the signed documents say (conformance class bad-package). */
    static final class BadPackage extends Refusal {
        BadPackage(String message) {
            super(message, 1);
        }
    }

    /** A file of the installed copy is missing or changed: the full package is needed (conformance class damaged-base). */
    static final class DamagedBase extends Refusal {
        DamagedBase(String path, String why) {
            super("installed file " + Json.quote(path) + " " + why + "; the installed copy is damaged, install the full package", 1);
        }
    }

    /** A channel index the device must not use: reason rollback, expired or unsigned. */
    static final class FreshnessRefusal extends Refusal {
        final String reason;

        FreshnessRefusal(String reason, String message) {
            super(message, 1);
            this.reason = reason;
        }
    }

    /** An encrypted object that cannot be opened: reason not-encrypted, unsupported-version, wrong-key, truncated or tampered. */
    static final class DecryptRefusal extends Refusal {
        final String reason;

        DecryptRefusal(String reason, String message) {
            super(message, 1);
            this.reason = reason;
        }
    }

    // -------------------------------------------------------------------- JSON

    /**
     * JSON as the documents use it: objects are LinkedHashMaps, arrays Lists,
     * numbers Doubles (JSON numbers are IEEE doubles, as in JavaScript), null
     * is null. canonical() is RFC 8785 (JCS): the bytes signatures cover.
     */
    static final class Json {
        private final String text;
        private int at;
        private static final int MAX_DEPTH = 256;

        private Json(String text) {
            this.text = text;
        }

        static Object parse(String text) {
            Json parser = new Json(text);
            parser.skipSpace();
            Object value = parser.value(0);
            parser.skipSpace();
            if (parser.at != text.length()) throw parser.error("unexpected text after the value");
            return value;
        }

        private IllegalArgumentException error(String why) {
            return new IllegalArgumentException("invalid JSON at offset " + at + ": " + why);
        }

        private void skipSpace() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                at++;
            }
        }

        private Object value(int depth) {
            if (at >= text.length()) throw error("unexpected end");
            char c = text.charAt(at);
            switch (c) {
                // PROTOCOL.md §19.2: at most MAX_DEPTH nested arrays and objects, counting the outermost.
                case '{': if (depth >= MAX_DEPTH) throw error("nested too deeply"); return object(depth);
                case '[': if (depth >= MAX_DEPTH) throw error("nested too deeply"); return array(depth);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw error("unexpected character");
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, at)) throw error("expected " + word);
            at += word.length();
            return value;
        }

        private static final Pattern NUMBER = Pattern.compile("-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?");

        private Double number() {
            Matcher m = NUMBER.matcher(text).region(at, text.length());
            if (!m.lookingAt()) throw error("malformed number");
            at = m.end();
            double value = Double.parseDouble(m.group());
            if (Double.isInfinite(value)) throw error("number out of range");
            return value;
        }

        private String string() {
            at++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (at >= text.length()) throw error("unterminated string");
                char c = text.charAt(at++);
                if (c == '"') {
                    String value = sb.toString();
                    for (int i = 0; i < value.length(); i++) {
                        char u = value.charAt(i);
                        if (Character.isHighSurrogate(u) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) i++;
                        else if (Character.isSurrogate(u)) throw error("lone surrogate in a string");
                    }
                    return value;
                }
                if (c < 0x20) throw error("control character in a string");
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (at >= text.length()) throw error("unterminated escape");
                char e = text.charAt(at++);
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        if (at + 4 > text.length()) throw error("short \\u escape");
                        int code = 0;
                        // Exactly four hex digits: Integer.parseInt would take a sign ("\\u+06f").
                        for (int i = 0; i < 4; i++) {
                            int digit = Character.digit(text.charAt(at + i), 16);
                            if (digit < 0 || text.charAt(at + i) > 'f') throw error("bad \\u escape");
                            code = code * 16 + digit;
                        }
                        sb.append((char) code);
                        at += 4;
                        break;
                    default: throw error("bad escape");
                }
            }
        }

        private Map<String, Object> object(int depth) {
            at++;
            Map<String, Object> map = new LinkedHashMap<>();
            skipSpace();
            if (at < text.length() && text.charAt(at) == '}') {
                at++;
                return map;
            }
            while (true) {
                skipSpace();
                if (at >= text.length() || text.charAt(at) != '"') throw error("expected a member name");
                String key = string();
                skipSpace();
                if (at >= text.length() || text.charAt(at) != ':') throw error("expected ':'");
                at++;
                skipSpace();
                // Refused, not last-wins: another parser keeping the first would read other values under the same signature.
                if (map.containsKey(key)) throw error("member name " + quote(key) + " appears twice in one object");
                map.put(key, value(depth + 1));
                skipSpace();
                if (at < text.length() && text.charAt(at) == ',') {
                    at++;
                    continue;
                }
                if (at < text.length() && text.charAt(at) == '}') {
                    at++;
                    return map;
                }
                throw error("expected ',' or '}'");
            }
        }

        private List<Object> array(int depth) {
            at++;
            List<Object> list = new ArrayList<>();
            skipSpace();
            if (at < text.length() && text.charAt(at) == ']') {
                at++;
                return list;
            }
            while (true) {
                skipSpace();
                list.add(value(depth + 1));
                skipSpace();
                if (at < text.length() && text.charAt(at) == ',') {
                    at++;
                    continue;
                }
                if (at < text.length() && text.charAt(at) == ']') {
                    at++;
                    return list;
                }
                throw error("expected ',' or ']'");
            }
        }

        /** Compact JSON, members in insertion order (output for people and programs). */
        static String write(Object value) {
            StringBuilder sb = new StringBuilder();
            write(value, sb, false);
            return sb.toString();
        }

        /** RFC 8785: members sorted by UTF-16 code units, ECMAScript number form, minimal escapes. Throws on a lone surrogate. */
        static String canonical(Object value) {
            StringBuilder sb = new StringBuilder();
            write(value, sb, true);
            return sb.toString();
        }

        @SuppressWarnings("unchecked")
        private static void write(Object value, StringBuilder sb, boolean canonical) {
            if (value == null) {
                sb.append("null");
            } else if (value instanceof Boolean) {
                sb.append(value.toString());
            } else if (value instanceof Number) {
                sb.append(number(((Number) value).doubleValue()));
            } else if (value instanceof String) {
                quote((String) value, sb, canonical);
            } else if (value instanceof List) {
                sb.append('[');
                boolean first = true;
                for (Object item : (List<Object>) value) {
                    if (!first) sb.append(',');
                    first = false;
                    write(item, sb, canonical);
                }
                sb.append(']');
            } else if (value instanceof Map) {
                Map<String, Object> map = (Map<String, Object>) value;
                List<String> keys = new ArrayList<>(map.keySet());
                // String.compareTo compares UTF-16 code units, exactly what RFC 8785 asks.
                if (canonical) keys.sort(Comparator.naturalOrder());
                sb.append('{');
                boolean first = true;
                for (String key : keys) {
                    if (!first) sb.append(',');
                    first = false;
                    quote(key, sb, canonical);
                    sb.append(':');
                    write(map.get(key), sb, canonical);
                }
                sb.append('}');
            } else {
                throw new IllegalArgumentException("not a JSON value: " + value.getClass());
            }
        }

        static String quote(String text) {
            StringBuilder sb = new StringBuilder();
            quote(text, sb, false);
            return sb.toString();
        }

        private static void quote(String text, StringBuilder sb, boolean canonical) {
            sb.append('"');
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    sb.append(c).append(text.charAt(++i));
                    continue;
                }
                if (Character.isSurrogate(c)) {
                    // RFC 8785 has no form for it: the document cannot be signed or checked.
                    if (canonical) throw new IllegalArgumentException("lone surrogate in a string");
                    sb.append(String.format("\\u%04x", (int) c));
                    continue;
                }
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\b': sb.append("\\b"); break;
                    case '\f': sb.append("\\f"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    default:
                        if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                }
            }
            sb.append('"');
        }

        /** ECMAScript Number::toString: the shortest digits that read back as the same double, then its layout rules. */
        static String number(double d) {
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("NaN and Infinity are not JSON");
            if (d == 0) return "0";
            if (d < 0) return "-" + number(-d);
            if (d < 9007199254740992.0 && d == Math.rint(d)) return Long.toString((long) d);
            BigDecimal exact = new BigDecimal(d);
            String digits = null;
            int n = 0;
            for (int precision = 1; precision <= 17; precision++) {
                BigDecimal rounded = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
                if (rounded.doubleValue() == d) {
                    BigDecimal stripped = rounded.stripTrailingZeros();
                    digits = stripped.unscaledValue().toString();
                    n = digits.length() - stripped.scale();
                    break;
                }
            }
            if (digits == null) throw new IllegalStateException("no shortest form for " + d);
            int k = digits.length();
            if (k <= n && n <= 21) return digits + "0".repeat(n - k);
            if (0 < n && n <= 21) return digits.substring(0, n) + "." + digits.substring(n);
            if (-6 < n && n <= 0) return "0." + "0".repeat(-n) + digits;
            int exponent = n - 1;
            String e = "e" + (exponent >= 0 ? "+" : "-") + Math.abs(exponent);
            return k == 1 ? digits + e : digits.charAt(0) + "." + digits.substring(1) + e;
        }

        // Readers of parsed documents: a wrong type is a malformed document, named by its field.

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(Object value, String what) throws BadPackage {
            if (value instanceof Map) return (Map<String, Object>) value;
            throw new BadPackage(what + " is not a JSON object");
        }

        @SuppressWarnings("unchecked")
        static List<Object> list(Object value, String what) throws BadPackage {
            if (value instanceof List) return (List<Object>) value;
            throw new BadPackage(what + " is not a JSON array");
        }

        static String string(Map<String, Object> map, String key, String what) throws BadPackage {
            Object value = map.get(key);
            if (value instanceof String) return (String) value;
            throw new BadPackage(what + "." + key + " is not a string");
        }

        static String optionalString(Map<String, Object> map, String key, String what) throws BadPackage {
            return map.get(key) == null ? null : string(map, key, what);
        }

        static long integer(Map<String, Object> map, String key, String what) throws BadPackage {
            Object value = map.get(key);
            if (value instanceof Double && (Double) value == Math.rint((Double) value) && (Double) value >= 0 && (Double) value < 9007199254740992.0) {
                return (long) (double) (Double) value;
            }
            throw new BadPackage(what + "." + key + " is not a whole number");
        }

        static double number(Map<String, Object> map, String key, String what) throws BadPackage {
            Object value = map.get(key);
            if (value instanceof Double) return (Double) value;
            throw new BadPackage(what + "." + key + " is not a number");
        }
    }

    // --------------------------------------------------------------- hashing

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) sb.append(String.format("%02x", b & 0xff));
        return sb.toString();
    }

    /** FNV-1a over UTF-16 code units (Java chars: exactly what the protocol hashes), then murmur3's fmix32. Unsigned. */
    static long hash32(String text) {
        int hash = 0x811c9dc5;
        for (int i = 0; i < text.length(); i++) {
            hash ^= text.charAt(i);
            hash *= 0x01000193;
        }
        hash ^= hash >>> 16;
        hash *= 0x85ebca6b;
        hash ^= hash >>> 13;
        hash *= 0xc2b2ae35;
        hash ^= hash >>> 16;
        return Integer.toUnsignedLong(hash);
    }

    static final int ROLLOUT_BUCKETS = 10_000;

    static int rolloutBucket(String deviceId, String packageId, String version) {
        return bucketOf(packageId + "@" + version, deviceId);
    }

    /** A device's bucket under a salt (PROTOCOL.md §14): package releases, switch keys and app releases each have their own. */
    static int bucketOf(String salt, String deviceId) {
        return (int) (hash32(salt + ":" + deviceId) % ROLLOUT_BUCKETS);
    }

    /** rolloutBasisPoints when present; older indexes only have the percentage, rounded (never truncated). */
    static long rolloutThreshold(Map<String, Object> rules) throws BadPackage {
        if (rules.get("rolloutBasisPoints") != null) return Json.integer(rules, "rolloutBasisPoints", "rules");
        return Math.round(Json.number(rules, "rollout", "rules") * 100);
    }

    static int whitelistShard(String id, long shards) {
        return (int) (hash32("whitelist:" + id) % shards);
    }

    static String whitelistShardKey(String list, int shard, Long version) {
        return "whitelists/" + list + "/" + (version == null ? "" : "v" + version + "/") + String.format("shard-%03d.json", shard);
    }

    // ---------------------------------------------------------------- semver

    /** A semantic version as node-semver reads it (strict mode). */
    static final class Version implements Comparable<Version> {
        final long major;
        final long minor;
        final long patch;
        /** Identifiers: Long for numeric ones, String otherwise. */
        final List<Object> prerelease;

        private Version(long major, long minor, long patch, List<Object> prerelease) {
            this.major = major;
            this.minor = minor;
            this.patch = patch;
            this.prerelease = prerelease;
        }

        private static final Pattern FULL = Pattern.compile("^v?" + Semver.MAINVERSION + Semver.PRERELEASE + "?" + Semver.BUILD + "?$");
        private static final Pattern SEMVER_2 = Pattern.compile(Semver.MAINVERSION + Semver.PRERELEASE + "?" + Semver.BUILD + "?");

        /**
         * A version as a device sends it or a marker holds it (PROTOCOL.md §1.1): exactly the SemVer 2.0.0
         * grammar, at most 256 characters: no leading v or =, no whitespace. null when it is not one.
         */
        static Version strict(String text) {
            if (text == null || text.length() > 256 || !SEMVER_2.matcher(text).matches()) return null;
            return parse(text);
        }

        /** null when not a valid version. */
        static Version parse(String text) {
            if (text == null || text.length() > 256) return null;
            Matcher m = FULL.matcher(text.trim());
            if (!m.matches()) return null;
            try {
                List<Object> pre = new ArrayList<>();
                if (m.group(4) != null) {
                    for (String id : m.group(4).split("\\.")) {
                        pre.add(id.matches("[0-9]+") && id.length() < 16 ? (Object) Long.parseLong(id) : id);
                    }
                }
                long major = Long.parseLong(m.group(1));
                long minor = Long.parseLong(m.group(2));
                long patch = Long.parseLong(m.group(3));
                if (major > 9007199254740991L || minor > 9007199254740991L || patch > 9007199254740991L) return null;
                return new Version(major, minor, patch, pre);
            } catch (NumberFormatException tooLarge) {
                return null;
            }
        }

        @Override
        public int compareTo(Version other) {
            int main = major != other.major ? Long.compare(major, other.major)
                : minor != other.minor ? Long.compare(minor, other.minor)
                : Long.compare(patch, other.patch);
            if (main != 0) return main;
            if (!prerelease.isEmpty() && other.prerelease.isEmpty()) return -1;
            if (prerelease.isEmpty() && !other.prerelease.isEmpty()) return 1;
            for (int i = 0; ; i++) {
                if (i >= prerelease.size() && i >= other.prerelease.size()) return 0;
                if (i >= other.prerelease.size()) return 1;
                if (i >= prerelease.size()) return -1;
                int c = compareIdentifiers(prerelease.get(i), other.prerelease.get(i));
                if (c != 0) return c;
            }
        }

        private static int compareIdentifiers(Object a, Object b) {
            boolean aNumeric = a instanceof Long;
            boolean bNumeric = b instanceof Long;
            if (aNumeric && bNumeric) return Long.compare((Long) a, (Long) b);
            if (aNumeric) return -1;
            if (bNumeric) return 1;
            return Integer.signum(((String) a).compareTo((String) b));
        }

        boolean sameTuple(Version other) {
            return major == other.major && minor == other.minor && patch == other.patch;
        }
    }

    /**
     * node-semver ranges (strict mode, prereleases excluded): desugared exactly
     * as node-semver's Range does (hyphen, X, tilde, caret ranges into
     * primitive comparators), then tested set by set.
     */
    static final class Semver {
        static final String NUM = "0|[1-9]\\d*";
        static final String NUMLOOSE = "\\d+";
        static final String NONNUM = "\\d*[a-zA-Z-][a-zA-Z0-9-]*";
        static final String MAINVERSION = "(" + NUM + ")\\.(" + NUM + ")\\.(" + NUM + ")";
        static final String MAINVERSIONLOOSE = "(" + NUMLOOSE + ")\\.(" + NUMLOOSE + ")\\.(" + NUMLOOSE + ")";
        static final String PREID = "(?:" + NONNUM + "|" + NUM + ")";
        static final String PREIDLOOSE = "(?:" + NONNUM + "|" + NUMLOOSE + ")";
        static final String PRERELEASE = "(?:-(" + PREID + "(?:\\." + PREID + ")*))";
        static final String PRERELEASELOOSE = "(?:-?(" + PREIDLOOSE + "(?:\\." + PREIDLOOSE + ")*))";
        static final String BUILD = "(?:\\+([a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*))";
        static final String FULLPLAIN = "v?" + MAINVERSION + PRERELEASE + "?" + BUILD + "?";
        static final String LOOSEPLAIN = "[v=\\s]*" + MAINVERSIONLOOSE + PRERELEASELOOSE + "?" + BUILD + "?";
        static final String GTLT = "((?:<|>)?=?)";
        static final String XID = NUM + "|x|X|\\*";
        static final String XRANGEPLAIN = "[v=\\s]*(" + XID + ")(?:\\.(" + XID + ")(?:\\.(" + XID + ")(?:" + PRERELEASE + ")?" + BUILD + "?)?)?";
        static final Pattern XRANGE = Pattern.compile("^" + GTLT + "\\s*" + XRANGEPLAIN + "$");
        static final Pattern TILDE = Pattern.compile("^(?:~>?)" + XRANGEPLAIN + "$");
        static final Pattern TILDETRIM = Pattern.compile("(\\s*)(?:~>?)\\s+");
        static final Pattern CARET = Pattern.compile("^(?:\\^)" + XRANGEPLAIN + "$");
        static final Pattern CARETTRIM = Pattern.compile("(\\s*)(?:\\^)\\s+");
        static final Pattern COMPARATOR = Pattern.compile("^" + GTLT + "\\s*(" + FULLPLAIN + ")$|^$");
        static final Pattern COMPARATORTRIM = Pattern.compile("(\\s*)" + GTLT + "\\s*(" + LOOSEPLAIN + "|" + XRANGEPLAIN + ")");
        static final Pattern HYPHENRANGE = Pattern.compile("^\\s*(" + XRANGEPLAIN + ")\\s+-\\s+(" + XRANGEPLAIN + ")\\s*$");
        static final Pattern STAR = Pattern.compile("(<|>)?=?\\s*\\*");
        static final Pattern GTE0 = Pattern.compile("^\\s*>=\\s*0\\.0\\.0\\s*$");
        static final Pattern BUILDRE = Pattern.compile(BUILD);

        /** One primitive comparator: operator and version; version null means any. */
        static final class Primitive {
            final String operator;
            final Version version;
            final String value;

            Primitive(String comp) {
                Matcher m = COMPARATOR.matcher(comp.trim().replaceAll("\\s+", " "));
                if (!m.matches()) throw new IllegalArgumentException("invalid comparator: " + comp);
                String op = m.group(1) == null ? "" : m.group(1);
                operator = op.equals("=") ? "" : op;
                if (m.group(2) == null || m.group(2).isEmpty()) {
                    version = null;
                    value = "";
                } else {
                    version = Version.parse(m.group(2));
                    if (version == null) throw new IllegalArgumentException("invalid version: " + m.group(2));
                    value = operator + m.group(2);
                }
            }

            boolean test(Version v) {
                if (version == null) return true;
                int c = v.compareTo(version);
                switch (operator) {
                    case "": return c == 0;
                    case ">": return c > 0;
                    case ">=": return c >= 0;
                    case "<": return c < 0;
                    case "<=": return c <= 0;
                    default: throw new IllegalArgumentException("invalid operator: " + operator);
                }
            }

            boolean isNullSet() {
                return version != null && operator.equals("<") && version.major == 0 && version.minor == 0 && version.patch == 0
                    && version.prerelease.size() == 1 && Long.valueOf(0).equals(version.prerelease.get(0));
            }
        }

        private final List<List<Primitive>> sets = new ArrayList<>();

        Semver(String range) {
            String raw = range.trim().replaceAll("\\s+", " ");
            if (raw.length() > 256) throw new IllegalArgumentException("range too long");
            for (String part : raw.split("\\|\\|", -1)) {
                List<Primitive> set = parseRange(part.trim());
                if (!set.isEmpty()) sets.add(set);
            }
            if (sets.isEmpty()) throw new IllegalArgumentException("invalid range: " + raw);
            if (sets.size() > 1) {
                List<Primitive> first = sets.get(0);
                sets.removeIf(set -> set.get(0).isNullSet());
                if (sets.isEmpty()) {
                    sets.add(first);
                } else if (sets.size() > 1) {
                    for (List<Primitive> set : new ArrayList<>(sets)) {
                        if (set.size() == 1 && set.get(0).version == null) {
                            sets.clear();
                            sets.add(set);
                            break;
                        }
                    }
                }
            }
        }

        boolean test(String versionText) {
            Version version = Version.strict(versionText);
            if (version == null) return false;
            for (List<Primitive> set : sets) if (testSet(set, version)) return true;
            return false;
        }

        private static boolean testSet(List<Primitive> set, Version version) {
            for (Primitive comparator : set) if (!comparator.test(version)) return false;
            if (version.prerelease.isEmpty()) return true;
            // A prerelease only satisfies a set that names a prerelease of the same major.minor.patch.
            for (Primitive comparator : set) {
                if (comparator.version != null && !comparator.version.prerelease.isEmpty() && comparator.version.sameTuple(version)) return true;
            }
            return false;
        }

        private static List<Primitive> parseRange(String range) {
            range = BUILDRE.matcher(range).replaceAll("");
            range = replace(HYPHENRANGE, range, Semver::hyphen);
            range = COMPARATORTRIM.matcher(range).replaceAll("$1$2$3");
            range = TILDETRIM.matcher(range).replaceAll("$1~");
            range = CARETTRIM.matcher(range).replaceAll("$1^");
            List<String> parsed = new ArrayList<>();
            for (String comp : range.split(" ", -1)) parsed.add(parsePrimitive(comp));
            List<Primitive> comparators = new ArrayList<>();
            Map<String, Primitive> byValue = new LinkedHashMap<>();
            for (String comp : String.join(" ", parsed).split("\\s+", -1)) {
                String trimmed = comp.trim();
                if (GTE0.matcher(trimmed).matches()) trimmed = "";
                Primitive comparator = new Primitive(trimmed);
                if (comparator.isNullSet()) return List.of(comparator);
                byValue.put(comparator.value, comparator);
            }
            if (byValue.size() > 1) byValue.remove("");
            comparators.addAll(byValue.values());
            return comparators;
        }

        private static String parsePrimitive(String comp) {
            comp = BUILDRE.matcher(comp).replaceFirst("");
            comp = eachWord(comp, word -> replace(CARET, word, Semver::caret));
            comp = eachWord(comp, word -> replace(TILDE, word, Semver::tilde));
            comp = eachWord(comp, Semver::xrange);
            return STAR.matcher(comp.trim()).replaceFirst("");
        }

        private interface Rewrite {
            String apply(String text);
        }

        private interface MatchRewrite {
            String apply(Matcher m);
        }

        private static String eachWord(String comp, Rewrite rewrite) {
            List<String> words = new ArrayList<>();
            for (String word : comp.trim().split("\\s+", -1)) words.add(rewrite.apply(word));
            return String.join(" ", words);
        }

        /** The pattern is anchored: the whole text is rewritten, or left as is. */
        private static String replace(Pattern pattern, String text, MatchRewrite rewrite) {
            Matcher m = pattern.matcher(text);
            return m.matches() ? rewrite.apply(m) : text;
        }

        private static boolean isX(String id) {
            return id == null || id.isEmpty() || id.equalsIgnoreCase("x") || id.equals("*");
        }

        private static long plusOne(String number) {
            return Long.parseLong(number) + 1;
        }

        private static String tilde(Matcher m) {
            String major = m.group(1), minor = m.group(2), patch = m.group(3), pre = m.group(4);
            if (isX(major)) return "";
            if (isX(minor)) return ">=" + major + ".0.0 <" + plusOne(major) + ".0.0-0";
            if (isX(patch)) return ">=" + major + "." + minor + ".0 <" + major + "." + plusOne(minor) + ".0-0";
            if (pre != null) return ">=" + major + "." + minor + "." + patch + "-" + pre + " <" + major + "." + plusOne(minor) + ".0-0";
            return ">=" + major + "." + minor + "." + patch + " <" + major + "." + plusOne(minor) + ".0-0";
        }

        private static String caret(Matcher m) {
            String major = m.group(1), minor = m.group(2), patch = m.group(3), pre = m.group(4);
            if (isX(major)) return "";
            if (isX(minor)) return ">=" + major + ".0.0 <" + plusOne(major) + ".0.0-0";
            if (isX(patch)) {
                if (major.equals("0")) return ">=" + major + "." + minor + ".0 <" + major + "." + plusOne(minor) + ".0-0";
                return ">=" + major + "." + minor + ".0 <" + plusOne(major) + ".0.0-0";
            }
            String from = ">=" + major + "." + minor + "." + patch + (pre != null ? "-" + pre : "");
            if (major.equals("0")) {
                if (minor.equals("0")) return from + " <" + major + "." + minor + "." + plusOne(patch) + "-0";
                return from + " <" + major + "." + plusOne(minor) + ".0-0";
            }
            return from + " <" + plusOne(major) + ".0.0-0";
        }

        private static String xrange(String comp) {
            comp = comp.trim();
            Matcher m = XRANGE.matcher(comp);
            if (!m.matches()) return comp;
            String gtlt = m.group(1), major = m.group(2), minor = m.group(3), patch = m.group(4);
            if ((isX(major) && !isX(minor)) || (isX(minor) && patch != null && !isX(patch))) return comp;
            boolean xMajor = isX(major);
            boolean xMinor = xMajor || isX(minor);
            boolean anyX = xMinor || isX(patch);
            if (gtlt.equals("=") && anyX) gtlt = "";
            String pre = "";
            if (xMajor) return gtlt.equals(">") || gtlt.equals("<") ? "<0.0.0-0" : "*";
            if (!gtlt.isEmpty() && anyX) {
                long maj = Long.parseLong(major);
                long min = xMinor ? 0 : Long.parseLong(minor);
                long pat = 0;
                if (gtlt.equals(">")) {
                    gtlt = ">=";
                    if (xMinor) {
                        maj += 1;
                        min = 0;
                    } else {
                        min += 1;
                    }
                    pat = 0;
                } else if (gtlt.equals("<=")) {
                    gtlt = "<";
                    if (xMinor) maj += 1;
                    else min += 1;
                }
                if (gtlt.equals("<")) pre = "-0";
                return gtlt + maj + "." + min + "." + pat + pre;
            }
            if (xMinor) return ">=" + major + ".0.0" + pre + " <" + plusOne(major) + ".0.0-0";
            if (anyX) return ">=" + major + "." + minor + ".0" + pre + " <" + major + "." + plusOne(minor) + ".0-0";
            return comp;
        }

        private static String hyphen(Matcher m) {
            String from = m.group(1), fM = m.group(2), fm = m.group(3), fp = m.group(4), fpr = m.group(5);
            String to = m.group(7), tM = m.group(8), tm = m.group(9), tp = m.group(10), tpr = m.group(11);
            if (isX(fM)) from = "";
            else if (isX(fm)) from = ">=" + fM + ".0.0";
            else if (isX(fp)) from = ">=" + fM + "." + fm + ".0";
            else from = ">=" + from;
            if (isX(tM)) to = "";
            else if (isX(tm)) to = "<" + plusOne(tM) + ".0.0-0";
            else if (isX(tp)) to = "<" + tM + "." + plusOne(tm) + ".0-0";
            else if (tpr != null) to = "<=" + tM + "." + tm + "." + tp + "-" + tpr;
            else to = "<=" + to;
            return (from + " " + to).trim();
        }

        private static final Map<String, Semver> CACHE = new HashMap<>();

        static boolean satisfies(String version, String range) {
            Semver parsed = CACHE.computeIfAbsent(range, Semver::new);
            return parsed.test(version);
        }
    }

    // ----------------------------------------------------------------- times

    private static final DateTimeFormatter OFFSET_WITHOUT_COLON = new DateTimeFormatterBuilder()
        .append(DateTimeFormatter.ISO_LOCAL_DATE_TIME).appendOffset("+HHMM", "Z").toFormatter(Locale.ROOT)
        .withChronology(java.time.chrono.IsoChronology.INSTANCE).withResolverStyle(java.time.format.ResolverStyle.STRICT);

    /** PROTOCOL.md §1.2: RFC 3339 date-times (also ±hhmm offsets) and bare dates; nothing else. */
    private static final Pattern PROTOCOL_TIME = Pattern.compile("[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}(?:[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2}))?");

    /** An RFC 3339 time with an offset (or a bare date, read as UTC midnight), to the millisecond; null when it is not one. */
    static Instant parseTime(String text) {
        if (text == null || !PROTOCOL_TIME.matcher(text).matches()) return null;
        Instant instant = parseIsoTime(text);
        return instant == null ? null : instant.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    private static Instant parseIsoTime(String text) {
        String upper = text.trim().toUpperCase(Locale.ROOT);
        try {
            return OffsetDateTime.parse(upper, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException notThisForm) {
            // next form
        }
        try {
            return OffsetDateTime.parse(upper, OFFSET_WITHOUT_COLON).toInstant();
        } catch (DateTimeParseException notThisForm) {
            // next form
        }
        try {
            return LocalDate.parse(upper).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notATime) {
            return null;
        }
    }

    // ------------------------------------------------------------ decisions

    /** What a device tells the resolver. Absent fields are null. */
    static final class Device {
        String packageId;
        String platform;
        String appVersion;
        String deviceId;
        String installed;
        Instant now = Instant.now();
        Map<String, String> attributes;
        /** The device applies binary patches (zstd --patch-from); only then is it offered a patched delta. */
        boolean patches;
    }

    interface WhitelistLookup {
        boolean contains(String list, String deviceId);
    }

    /** resolveUpdate: which release a device gets and how (PROTOCOL.md "Resolving"). */
    static final class Resolver {
        private Resolver() {}

        static String normalizePlatform(String platform) {
            return platform.trim().toLowerCase(Locale.ROOT);
        }

        static boolean matches(Map<String, Object> release, String packageId, Device device, WhitelistLookup whitelists, boolean ignoreRollout) throws BadPackage {
            if (!"active".equals(release.get("state"))) return false;
            String version = Json.string(release, "version", "release");
            return rulesMatch(Json.object(release.get("rules"), "rules"), device, whitelists, packageId + "@" + version, ignoreRollout);
        }

        /** THE rule evaluation (§6.1): package releases, switch variants and app releases; the rollout under `salt`. */
        static boolean rulesMatch(Map<String, Object> rules, Device device, WhitelistLookup whitelists, String salt, boolean ignoreRollout) throws BadPackage {
            if (rules.get("platforms") != null) {
                if (device.platform == null || device.platform.isEmpty()) return false;
                String wanted = normalizePlatform(device.platform);
                boolean listed = false;
                for (Object platform : Json.list(rules.get("platforms"), "rules.platforms")) {
                    if (platform instanceof String && normalizePlatform((String) platform).equals(wanted)) listed = true;
                }
                if (!listed) return false;
            }
            String range = Json.optionalString(rules, "appVersion", "rules");
            // An empty range is no rule at all (as an absent one), not node-semver's "any release".
            if (range != null && !range.isEmpty() && (device.appVersion == null || device.appVersion.isEmpty() || !Semver.satisfies(device.appVersion, range))) return false;
            Instant startsAt = parseTime(Json.optionalString(rules, "startsAt", "rules"));
            if (startsAt != null && device.now.isBefore(startsAt)) return false;
            Instant endsAt = parseTime(Json.optionalString(rules, "endsAt", "rules"));
            if (endsAt != null && !device.now.isBefore(endsAt)) return false;
            if (rules.get("attributes") != null) {
                for (Map.Entry<String, Object> wanted : Json.object(rules.get("attributes"), "rules.attributes").entrySet()) {
                    String has = device.attributes == null ? null : device.attributes.get(wanted.getKey());
                    if (has == null || !has.equals(wanted.getValue())) return false;
                }
            }
            if (ignoreRollout) return true;
            String deviceId = device.deviceId == null ? "" : device.deviceId;
            if (!deviceId.isEmpty() && whitelists != null && rules.get("whitelist") != null) {
                for (Object list : Json.list(rules.get("whitelist"), "rules.whitelist")) {
                    if (list instanceof String && whitelists.contains((String) list, deviceId)) return true;
                }
            }
            return bucketOf(salt, deviceId) < rolloutThreshold(rules);
        }

        private static boolean newer(String a, String b) {
            Version va = Version.strict(a);
            Version vb = Version.strict(b);
            return va != null && vb != null && va.compareTo(vb) > 0;
        }

        /** Equal by SemVer precedence: build metadata does not count (1.0.1+x is 1.0.1). */
        static boolean same(String a, String b) {
            Version va = Version.strict(a);
            Version vb = Version.strict(b);
            return va != null && vb != null && va.compareTo(vb) == 0;
        }

        /** A version the device sends must be SemVer 2.0.0 (an input failure otherwise); absent or empty: not sent. */
        static void assertDeviceVersion(String what, String version) throws Refusal {
            if (version == null || version.isEmpty() || Version.strict(version) != null) return;
            throw Refusal.input(what + " " + Json.quote(version) + " is not a SemVer 2.0.0 version (no leading 'v', no spaces); give e.g. 2.0.0");
        }

        static Map<String, Object> noUpdate(String reason, String version) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("update", false);
            result.put("version", version);
            result.put("kind", null);
            result.put("patched", false);
            result.put("key", null);
            result.put("size", null);
            result.put("sha256", null);
            result.put("manifestKey", null);
            result.put("mandatory", false);
            result.put("reason", reason);
            return result;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> resolve(Map<String, Object> index, Device device, WhitelistLookup whitelists) throws Refusal {
            assertDeviceVersion("app version", device.appVersion);
            assertDeviceVersion("installed version", device.installed);
            String installed = device.installed == null || device.installed.isEmpty() ? null : device.installed;
            Map<String, Object> packages = Json.object(index.get("packages"), "packages");
            Object entry = packages.get(device.packageId);
            List<Object> releaseList = entry == null ? List.of() : Json.list(Json.object(entry, "package").get("releases"), "releases");
            // Without an update, version is what the device keeps: the installed version, or null (§6.4).
            if (releaseList.isEmpty()) return noUpdate("unknown-package", installed);
            List<Map<String, Object>> releases = new ArrayList<>();
            for (Object release : releaseList) releases.add(Json.object(release, "release"));
            boolean sentBack = false;
            if (installed != null) {
                for (Map<String, Object> release : releases) {
                    if (same(installed, (String) release.get("version")) && "rolled-back".equals(release.get("state"))) sentBack = true;
                }
            }
            Map<String, Object> target = null;
            for (Map<String, Object> release : releases) {
                if (matches(release, device.packageId, device, whitelists, false)) {
                    target = release;
                    break;
                }
            }
            // Off a rolled-back release, a device goes back even where an older release's rollout never reached it.
            if (target == null && sentBack) {
                for (Map<String, Object> release : releases) {
                    if (newer(installed, (String) release.get("version")) && matches(release, device.packageId, device, whitelists, true)) {
                        target = release;
                        break;
                    }
                }
            }
            if (target == null) return noUpdate("no-matching-release", installed);
            String version = Json.string(target, "version", "release");
            String reason = installed != null ? "newer-release" : "not-installed";
            if (same(installed, version)) return noUpdate("up-to-date", installed);
            if (installed != null && newer(installed, version)) {
                if (!sentBack) return noUpdate("installed-newer", installed);
                reason = "rollback";
            }
            Map<String, Object> object = Json.object(target.get("full"), "release.full");
            String kind = "full";
            boolean patched = false;
            if (installed != null) {
                for (Object candidate : Json.list(target.get("deltas"), "release.deltas")) {
                    Map<String, Object> delta = Json.object(candidate, "delta");
                    // Every base file is checked before use (§10), so the delta from 1.0.0 serves an installed 1.0.0+b.
                    if (delta.get("from") instanceof String && same(installed, (String) delta.get("from"))) {
                        object = delta;
                        kind = "delta";
                        // Only a device that applies binary patches is offered the patched form (this client's installer does not).
                        if (device.patches && delta.get("patched") != null) {
                            object = Json.object(delta.get("patched"), "delta.patched");
                            patched = true;
                        }
                        break;
                    }
                }
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("update", true);
            result.put("version", version);
            result.put("kind", kind);
            result.put("patched", patched);
            result.put("key", Json.string(object, "key", "object"));
            result.put("size", (double) Json.integer(object, "size", "object"));
            result.put("sha256", Json.string(object, "sha256", "object"));
            result.put("manifestKey", Json.string(Json.object(target.get("manifest"), "release.manifest"), "key", "release.manifest"));
            result.put("mandatory", isMandatory(releases, target, installed, device));
            result.put("reason", reason);
            return result;
        }

        /** Mandatory when the target is, or a skipped release was: mandatory, active and meant for the device, whatever its rollout. */
        private static boolean isMandatory(List<Map<String, Object>> releases, Map<String, Object> target, String installed, Device device) throws BadPackage {
            if (Boolean.TRUE.equals(Json.object(target.get("rules"), "rules").get("mandatory"))) return true;
            if (installed == null) return false;
            String targetVersion = (String) target.get("version");
            for (Map<String, Object> release : releases) {
                String version = (String) release.get("version");
                if (Boolean.TRUE.equals(Json.object(release.get("rules"), "rules").get("mandatory")) && newer(version, installed) && newer(targetVersion, version)
                    && matches(release, device.packageId, device, null, true)) {
                    return true;
                }
            }
            return false;
        }
    }

    // ------------------------------------------------- switches and app releases

    /** The checks every client makes of switches.json and app-releases.json before using them (PROTOCOL.md §3.4, §3.5, §14). */
    static final class ChannelDocuments {
        private ChannelDocuments() {}

        static final long MAX_SWITCHES = 136L * 1024;
        static final long MAX_APP_RELEASES = 72L * 1024;
        private static final Pattern SWITCH_KEY = Pattern.compile("^[A-Za-z][A-Za-z0-9._-]{0,127}$");
        private static final Set<String> SWITCH_TYPES = Set.of("boolean", "number", "string", "json");

        /**
         * §3.1 `documents`: the version of `name` ("switches", "appReleases") the index was written with;
         * null when it names none (an index written before documents were bound: the document is read unbound).
         */
        static Long boundVersion(Map<String, Object> index, String name) throws BadPackage {
            Object documents = index.get("documents");
            if (documents == null) return null;
            if (!(documents instanceof Map)) throw new BadPackage("channel index: documents is not an object");
            Map<String, Object> bindings = Json.object(documents, "documents");
            if (!bindings.containsKey(name)) return null;
            Object binding = bindings.get(name);
            if (!(binding instanceof Map)) throw new BadPackage("channel index: documents." + name + " is not { version }");
            return Json.integer(Json.object(binding, "documents." + name), "version", "channel index: documents." + name);
        }

        /** A document other than the version the index names is refused: an older signed copy put back (a replay), or one written after the index. */
        static void assertBound(Map<String, Object> index, String name, Map<String, Object> document, String key) throws BadPackage {
            Long bound = boundVersion(index, name);
            long found = Trust.versionOf(document);
            if (bound == null || bound == found) return;
            String why = found < bound ? "an older copy was put back in the store (a replay) or removed"
                : "it is not the one the index was written with (a write still in progress, or an older index)";
            throw new BadPackage(key + ": is " + (found == 0 ? "absent" : "version " + found) + ", but the channel index (version " + Trust.versionOf(index) + ") names "
                + (bound == 0 ? "none" : "version " + bound) + ": " + why);
        }

        /** schemaVersion, channel, version, updatedAt, expires: as the index's. */
        static Map<String, Object> header(Object document, String key, String channel) throws BadPackage {
            Map<String, Object> map = Json.object(document, key);
            Object schemaVersion = map.get("schemaVersion");
            if (!(schemaVersion instanceof Double) || (Double) schemaVersion != Math.rint((Double) schemaVersion)) throw new BadPackage(key + ": schemaVersion is not a whole number");
            if ((Double) schemaVersion > 1) throw new BadPackage(key + ": has schema version " + Json.write(schemaVersion) + "; this client reads version 1, update it");
            if (!(map.get("channel") instanceof String)) throw new BadPackage(key + ": channel is not a string");
            Json.integer(map, "version", key);
            Json.string(map, "updatedAt", key);
            if (map.get("expires") != null && parseTime(Json.string(map, "expires", key)) == null) throw new BadPackage(key + ": expires is not an ISO-8601 time");
            if (!channel.equals(map.get("channel"))) throw new BadPackage(key + ": names channel '" + map.get("channel") + "', not '" + channel + "': it was copied from another channel");
            return map;
        }

        /** Rules (§3.1) as every reader checks them; mandatory only where the document has it. */
        static void rules(Object value, String what, boolean withMandatory) throws BadPackage {
            Map<String, Object> rules = Json.object(value, what);
            double rollout = Json.number(rules, "rollout", what);
            if (rollout < 0 || rollout > 100) throw new BadPackage(what + ".rollout is not 0-100");
            if (rules.get("rolloutBasisPoints") != null && Json.integer(rules, "rolloutBasisPoints", what) > 10000) throw new BadPackage(what + ".rolloutBasisPoints is above 10000");
            for (String list : new String[] {"platforms", "whitelist"}) {
                if (rules.get(list) == null) continue;
                for (Object item : Json.list(rules.get(list), what + "." + list)) if (!(item instanceof String)) throw new BadPackage(what + "." + list + " holds a non-string");
            }
            String range = Json.optionalString(rules, "appVersion", what);
            if (range != null) {
                try {
                    new Semver(range);
                } catch (IllegalArgumentException invalid) {
                    throw new BadPackage(what + ".appVersion is not a semver range");
                }
            }
            for (String time : new String[] {"startsAt", "endsAt"}) {
                if (rules.get(time) != null && parseTime(Json.string(rules, time, what)) == null) throw new BadPackage(what + "." + time + " is not an ISO-8601 time");
            }
            if (rules.get("attributes") != null) {
                for (Object item : Json.object(rules.get("attributes"), what + ".attributes").values()) if (!(item instanceof String)) throw new BadPackage(what + ".attributes holds a non-string");
            }
            if (withMandatory && !(rules.get("mandatory") instanceof Boolean)) throw new BadPackage(what + ".mandatory is not a boolean");
        }

        static String typeOf(Object value) {
            if (value instanceof Boolean) return "boolean";
            if (value instanceof Double) return "number";
            if (value instanceof String) return "string";
            return "json";
        }

        /** A switches document a device may use; its type rule holds on the device too (a value of another type refuses the document). */
        static Map<String, Object> switches(Object document, String key, String channel) throws BadPackage {
            Map<String, Object> map = header(document, key, channel);
            for (Map.Entry<String, Object> entry : Json.object(map.get("switches"), key + ".switches").entrySet()) {
                String what = key + ".switches." + entry.getKey();
                if (!SWITCH_KEY.matcher(entry.getKey()).matches()) throw new BadPackage(what + ": not a switch key");
                Map<String, Object> item = Json.object(entry.getValue(), what);
                Object type = item.get("type");
                if (type != null && !SWITCH_TYPES.contains(type)) throw new BadPackage(what + ".type is not boolean, number, string or json");
                if (!item.containsKey("default")) throw new BadPackage(what + ".default is missing");
                List<Object> values = new ArrayList<>();
                values.add(item.get("default"));
                for (Object variant : Json.list(item.get("variants"), what + ".variants")) {
                    Map<String, Object> v = Json.object(variant, what + ".variants[]");
                    if (!v.containsKey("value")) throw new BadPackage(what + ".variants[].value is missing");
                    rules(v.get("rules"), what + ".variants[].rules", false);
                    values.add(v.get("value"));
                }
                if (type != null) for (Object value : values) if (!type.equals(typeOf(value))) throw new BadPackage(what + ": a value is not of the key's type " + type);
            }
            return map;
        }

        /** An app-releases document a device may use: versions SemVer 2.0.0, store pages https only. */
        static Map<String, Object> appReleases(Object document, String key, String channel) throws BadPackage {
            Map<String, Object> map = header(document, key, channel);
            for (Map.Entry<String, Object> platform : Json.object(map.get("platforms"), key + ".platforms").entrySet()) {
                String what = key + ".platforms." + platform.getKey();
                for (Object item : Json.list(Json.object(platform.getValue(), what).get("releases"), what + ".releases")) {
                    Map<String, Object> release = Json.object(item, what + ".releases[]");
                    if (!documentVersion(Json.string(release, "version", what))) throw new BadPackage(what + ": version " + Json.quote(String.valueOf(release.get("version"))) + " is not SemVer 2.0.0 without build metadata");
                    if (!isHttps(Json.string(release, "url", what))) throw new BadPackage(what + ": url " + Json.quote((String) release.get("url")) + " is not an https URL");
                    if (release.get("minSupported") != null && !documentVersion(Json.string(release, "minSupported", what))) throw new BadPackage(what + ": minSupported is not SemVer 2.0.0 without build metadata");
                    Json.optionalString(release, "message", what);
                    if (parseTime(Json.string(release, "releasedAt", what)) == null) throw new BadPackage(what + ": releasedAt is not an ISO-8601 time");
                    if (!"active".equals(release.get("state")) && !"halted".equals(release.get("state"))) throw new BadPackage(what + ": state is not active or halted");
                    rules(release.get("rules"), what + ".rules", true);
                }
            }
            return map;
        }

        /** A version as documents hold it (PROTOCOL.md §1.1): SemVer 2.0.0 without build metadata. */
        static boolean documentVersion(String text) {
            return Version.strict(text) != null && !text.contains("+");
        }

        static boolean isHttps(String url) {
            try {
                URI uri = new URI(url);
                return "https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null;
            } catch (java.net.URISyntaxException notUrl) {
                return false;
            }
        }

        /** resolveSwitches (§14.1): every key's value for the device, and why. */
        static Map<String, Object> resolveSwitches(Map<String, Object> document, Device device, WhitelistLookup whitelists) throws Refusal {
            Resolver.assertDeviceVersion("app version", device.appVersion);
            Map<String, Object> values = new LinkedHashMap<>();
            Map<String, Object> reasons = new LinkedHashMap<>();
            for (Map.Entry<String, Object> entry : Json.object(document.get("switches"), "switches").entrySet()) {
                Map<String, Object> item = Json.object(entry.getValue(), "switch");
                List<Object> variants = Json.list(item.get("variants"), "variants");
                int matched = -1;
                for (int i = 0; i < variants.size() && matched < 0; i++) {
                    Map<String, Object> variant = Json.object(variants.get(i), "variant");
                    if (Resolver.rulesMatch(Json.object(variant.get("rules"), "rules"), device, whitelists, "switch:" + entry.getKey(), false)) matched = i;
                }
                Map<String, Object> reason = new LinkedHashMap<>();
                if (matched < 0) {
                    values.put(entry.getKey(), item.get("default"));
                    reason.put("source", "default");
                } else {
                    values.put(entry.getKey(), Json.object(variants.get(matched), "variant").get("value"));
                    reason.put("source", "variant");
                    reason.put("variant", (double) (matched + 1));
                }
                reasons.put(entry.getKey(), reason);
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("values", values);
            result.put("reasons", reasons);
            return result;
        }

        /** resolveAppUpgrade (§14.2): whether the device should upgrade its app, and must. */
        static Map<String, Object> resolveAppUpgrade(Map<String, Object> document, Device device, WhitelistLookup whitelists) throws Refusal {
            String appVersion = device.appVersion;
            if (appVersion == null || appVersion.isEmpty()) throw Refusal.input("the app version is required to decide an app upgrade; give e.g. 2.0.0");
            Resolver.assertDeviceVersion("app version", appVersion);
            if (device.platform == null || device.platform.trim().isEmpty()) throw Refusal.input("the platform is required to decide an app upgrade; give e.g. ios");
            String platform = Resolver.normalizePlatform(device.platform);
            Object entry = Json.object(document.get("platforms"), "platforms").get(platform);
            List<Object> releases = entry == null ? List.of() : Json.list(Json.object(entry, "platform").get("releases"), "releases");
            if (releases.isEmpty()) return noUpgrade("unknown-platform");
            List<Map<String, Object>> above = new ArrayList<>();
            for (Object item : releases) {
                Map<String, Object> release = Json.object(item, "release");
                if (Version.strict((String) release.get("version")).compareTo(Version.strict(appVersion)) > 0) above.add(release);
            }
            if (above.isEmpty()) return noUpgrade("up-to-date");
            Map<String, Object> target = null;
            for (Map<String, Object> release : above) {
                if (served(release, platform, device, whitelists, false)) {
                    target = release;
                    break;
                }
            }
            if (target == null) return noUpgrade("no-matching-release");
            Version targetVersion = Version.strict((String) target.get("version"));
            boolean belowMinimum = false;
            boolean mandatory = false;
            for (Map<String, Object> release : above) {
                if (Version.strict((String) release.get("version")).compareTo(targetVersion) > 0) continue;
                if (release != target && !served(release, platform, device, whitelists, true)) continue;
                Object minSupported = release.get("minSupported");
                if (minSupported != null && Version.strict((String) minSupported).compareTo(Version.strict(appVersion)) > 0) belowMinimum = true;
                if (Boolean.TRUE.equals(Json.object(release.get("rules"), "rules").get("mandatory"))) mandatory = true;
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("update", true);
            result.put("latest", target.get("version"));
            result.put("url", target.get("url"));
            result.put("force", belowMinimum || mandatory);
            result.put("message", target.get("message"));
            result.put("reason", belowMinimum ? "below-min-supported" : mandatory ? "mandatory" : "newer-release");
            return result;
        }

        private static boolean served(Map<String, Object> release, String platform, Device device, WhitelistLookup whitelists, boolean ignoreRollout) throws BadPackage {
            return "active".equals(release.get("state"))
                && Resolver.rulesMatch(Json.object(release.get("rules"), "rules"), device, whitelists, "app:" + platform + "@" + release.get("version"), ignoreRollout);
        }

        private static Map<String, Object> noUpgrade(String reason) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("update", false);
            result.put("latest", null);
            result.put("url", null);
            result.put("force", false);
            result.put("message", null);
            result.put("reason", reason);
            return result;
        }

        /** What `switch resolve` and `app-release resolve` do: read the document as a device does, then decide. */
        static Map<String, Object> read(String kind, DeviceOptions options) throws Refusal, IOException {
            boolean switches = kind.equals("switch");
            Http http = new Http(options.from);
            http.credentials = options.credentials;
            List<Signatures.TrustedKey> trusted = Installer.loadPublicKeys(options.publicKeys);
            // The index first: it names the switches and app-releases versions it was written with (§3.1 `documents`);
            // a channel without one (switches or app releases alone, written before documents were bound) reads them unbound.
            String indexKey = "channels/" + options.channel + "/index.json";
            byte[] indexBody = http.readDocument(indexKey, Installer.MAX_INDEX);
            Map<String, Object> index = null;
            if (indexBody != null) {
                Object indexDocument = Installer.parseJson(indexBody, indexKey);
                boolean indexSigned = Installer.checkSignature(indexKey, indexDocument, trusted);
                index = Installer.validateIndex(indexDocument, indexKey, options.channel);
                Trust.assertFresh(index, options.device.now, indexSigned, null);
            }
            String key = "channels/" + options.channel + (switches ? "/switches.json" : "/app-releases.json");
            String what = switches ? "switches document" : "app-releases document";
            byte[] body = http.readDocument(key, switches ? MAX_SWITCHES : MAX_APP_RELEASES);
            Map<String, Object> document;
            boolean signed = false;
            if (body == null) {
                // An absent document: no switches, no app releases (version 0).
                document = new LinkedHashMap<>();
                document.put("schemaVersion", 1.0);
                document.put("channel", options.channel);
                document.put("version", 0.0);
                document.put("updatedAt", "1970-01-01T00:00:00.000Z");
                document.put(switches ? "switches" : "platforms", new LinkedHashMap<>());
            } else {
                Object parsed = Installer.parseJson(body, key);
                signed = Installer.checkSignature(key, parsed, trusted);
                document = switches ? switches(parsed, key, options.channel) : appReleases(parsed, key, options.channel);
            }
            if (index != null) assertBound(index, switches ? "switches" : "appReleases", document, key);
            // This command remembers nothing between runs: only expiry counts (an app keeps { channel, version, signed }, §14).
            Trust.assertFresh(document, options.device.now, signed, null, what);
            Set<String> lists = new LinkedHashSet<>();
            if (switches) {
                for (Object item : Json.object(document.get("switches"), "switches").values()) {
                    for (Object variant : Json.list(Json.object(item, "switch").get("variants"), "variants")) listsOf(Json.object(variant, "variant").get("rules"), lists);
                }
            } else if (options.device.platform != null) {
                Object entry = Json.object(document.get("platforms"), "platforms").get(Resolver.normalizePlatform(options.device.platform));
                if (entry != null) for (Object release : Json.list(Json.object(entry, "platform").get("releases"), "releases")) listsOf(Json.object(release, "release").get("rules"), lists);
            }
            // The uploads the index binds (§7): an older list put back is never read.
            Map<String, Object> bindings = index == null || index.get("whitelists") == null ? Map.of() : Json.object(index.get("whitelists"), "whitelists");
            WhitelistLookup whitelists = options.device.deviceId == null || options.device.deviceId.isEmpty() ? null
                : Installer.readWhitelists(http, lists, options.device.deviceId, trusted, bindings);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("channel", options.channel);
            result.put("documentVersion", document.get("version"));
            if (switches) {
                result.put("deviceId", options.device.deviceId);
                result.putAll(resolveSwitches(document, options.device, whitelists));
            } else {
                result.putAll(resolveAppUpgrade(document, options.device, whitelists));
            }
            return result;
        }

        private static void listsOf(Object rules, Set<String> into) throws BadPackage {
            Object lists = Json.object(rules, "rules").get("whitelist");
            if (lists != null) for (Object name : Json.list(lists, "rules.whitelist")) if (name instanceof String) into.add((String) name);
        }
    }

    /** The arguments of `switch resolve` and `app-release resolve`, as the update-publish CLI takes them. */
    static final class DeviceOptions {
        String from;
        String channel = "production";
        Device device = new Device();
        List<String> publicKeys = new ArrayList<>();
        Credentials credentials;

        static DeviceOptions parse(String command, List<String> args) throws Refusal {
            DeviceOptions options = new DeviceOptions();
            String usage = "usage: java UpdateClient.java " + command + " resolve --from <base-url> [--channel C]"
                + (command.equals("switch") ? " --device-id D [--platform P] [--app-version V]" : " --platform P --app-version V [--device-id D]")
                + " [--attr k=v,...] [--now ISO] [--public-key FILE]... [--credentials-command CMD]";
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                if (arg.equals("--help")) throw Refusal.input(usage);
                if (!arg.startsWith("--")) throw Refusal.input("unexpected argument '" + arg + "'; " + usage);
                if (i + 1 >= args.size()) throw Refusal.input(arg + " needs a value");
                String value = args.get(++i);
                switch (arg) {
                    case "--from": options.from = value; break;
                    case "--channel": options.channel = value; break;
                    case "--platform": options.device.platform = value; break;
                    case "--app-version":
                        if (Version.strict(value) == null) throw Refusal.input("--app-version '" + value + "' is not a SemVer 2.0.0 version (no leading 'v', no spaces); use e.g. 2.0.0");
                        options.device.appVersion = value;
                        break;
                    case "--device-id": options.device.deviceId = value; break;
                    case "--attr": options.device.attributes = Options.parseAttributes(value); break;
                    case "--public-key": options.publicKeys.add(value); break;
                    case "--now": options.device.now = Options.parseNow(value); break;
                    case "--credentials-command": options.credentials = Options.commandCredentials(value); break;
                    default: throw Refusal.input("unknown option " + arg + "; see --help");
                }
            }
            if (options.from == null) throw Refusal.input("--from <base-url> is required: the http(s) URL the store is served at");
            if (!Options.NAME.matcher(options.channel).matches()) throw Refusal.input("channel '" + options.channel + "' is not a valid name; use lowercase letters, digits, '.', '_' or '-'");
            if (command.equals("switch") && options.device.deviceId == null) throw Refusal.input("--device-id <id> is required: it decides rollouts and whitelist membership");
            if (command.equals("app-release") && (options.device.platform == null || options.device.appVersion == null)) {
                throw Refusal.input("--platform and --app-version are required, e.g. --platform ios --app-version 3.1.0");
            }
            return options;
        }
    }

    // --------------------------------------------------------------- run once

    /** Work an app does once when content of `version` (or later) is installed (PROTOCOL.md §15). */
    public interface RunOnceStep {
        String version();

        void run() throws Exception;
    }

    /** Where the app keeps the versions whose steps completed. */
    public interface RunOnceRecord {
        List<String> load() throws IOException;

        void save(List<String> done) throws IOException;
    }

    /**
     * Runs, ascending by precedence, every step up to installedVersion not yet recorded; records each after it
     * succeeds; a failing step stops the run (it runs again next time). Returns the versions run now.
     */
    public static List<String> runOnce(List<RunOnceStep> steps, RunOnceRecord record, String installedVersion) throws Exception {
        Version installed = Version.strict(installedVersion);
        if (installed == null) throw Refusal.input("installed version " + Json.quote(String.valueOf(installedVersion)) + " is not a SemVer 2.0.0 version (e.g. 1.4.0)");
        List<RunOnceStep> sorted = new ArrayList<>();
        for (RunOnceStep step : steps) {
            if (Version.strict(step.version()) == null) throw Refusal.input("step version " + Json.quote(String.valueOf(step.version())) + " is not a SemVer 2.0.0 version (e.g. 1.4.0)");
            sorted.add(step);
        }
        sorted.sort((a, b) -> Version.strict(a.version()).compareTo(Version.strict(b.version())));
        for (int i = 1; i < sorted.size(); i++) {
            if (Version.strict(sorted.get(i - 1).version()).compareTo(Version.strict(sorted.get(i).version())) == 0) {
                throw Refusal.input("two run-once steps are registered for version " + sorted.get(i).version() + "; merge them into one");
            }
        }
        List<RunOnceStep> due = new ArrayList<>();
        for (RunOnceStep step : sorted) if (Version.strict(step.version()).compareTo(installed) <= 0) due.add(step);
        List<String> ran = new ArrayList<>();
        if (due.isEmpty()) return ran;
        List<String> done = new ArrayList<>(record.load());
        for (RunOnceStep step : due) {
            Version version = Version.strict(step.version());
            boolean recorded = false;
            for (String entry : done) if (Version.strict(entry) != null && Version.strict(entry).compareTo(version) == 0) recorded = true;
            if (recorded) continue;
            step.run();
            done.add(step.version());
            record.save(new ArrayList<>(done));
            ran.add(step.version());
        }
        return ran;
    }

    /** What a device remembers per channel between checks, so a mirror can neither turn time back nor strip signatures. */
    static final class Trust {
        final String channel;
        final long indexVersion;
        final boolean signed;

        Trust(String channel, long indexVersion, boolean signed) {
            this.channel = channel;
            this.indexVersion = indexVersion;
            this.signed = signed;
        }

        static Trust from(Object value) {
            if (!(value instanceof Map)) return null;
            Map<?, ?> map = (Map<?, ?>) value;
            // A malformed trust is nothing remembered (PROTOCOL.md §10.2), never damage.
            if (!(map.get("channel") instanceof String) || !(map.get("indexVersion") instanceof Double) || !(map.get("signed") instanceof Boolean)) return null;
            double version = (Double) map.get("indexVersion");
            if (version < 0 || version != Math.floor(version) || version > 9007199254740991.0) return null;
            return new Trust((String) map.get("channel"), (long) version, (Boolean) map.get("signed"));
        }

        Map<String, Object> toJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("channel", channel);
            json.put("indexVersion", (double) indexVersion);
            json.put("signed", signed);
            return json;
        }

        boolean sameAs(Trust other) {
            return other != null && channel.equals(other.channel) && indexVersion == other.indexVersion && signed == other.signed;
        }

        private static long versionOf(Map<String, Object> index) throws BadPackage {
            return index.get("version") == null ? 0 : Json.integer(index, "version", "index");
        }

        /** Refuses, in this order: unsigned after signed, a lower version (rollback), now at or past expires. */
        static void assertFresh(Map<String, Object> index, Instant now, boolean signed, Trust remembered) throws BadPackage, FreshnessRefusal {
            assertFresh(index, now, signed, remembered, "index");
        }

        /** The same for any polled channel document (`what`: "index", "switches document", "app-releases document"). */
        static void assertFresh(Map<String, Object> index, Instant now, boolean signed, Trust remembered, String what) throws BadPackage, FreshnessRefusal {
            String channel = Json.string(index, "channel", what);
            long version = versionOf(index);
            Trust known = remembered != null && remembered.channel.equals(channel) ? remembered : null;
            if (known != null && known.signed && !signed) {
                throw new FreshnessRefusal("unsigned", "channel '" + channel + "' served an unsigned " + what + " after a signed one was accepted: the store was replaced or its signatures stripped; refused");
            }
            if (known != null && version < known.indexVersion) {
                throw new FreshnessRefusal("rollback", "channel '" + channel + "' " + what + " is version " + version + ", older than version " + known.indexVersion
                    + " accepted before: a rollback (an old " + what + " served again); refused");
            }
            String expires = Json.optionalString(index, "expires", "index");
            if (expires != null) {
                Instant at = parseTime(expires);
                if (at == null) throw new BadPackage(what + ".expires is not an ISO-8601 time");
                if (!now.isBefore(at)) {
                    throw new FreshnessRefusal("expired", "channel '" + channel + "' " + what + " expired at " + expires
                        + ": the mirror serves a frozen copy, or the publisher has not refreshed it; refused");
                }
            }
        }

        static Trust remember(Map<String, Object> index, boolean signed, Trust remembered) throws BadPackage {
            String channel = Json.string(index, "channel", "index");
            Trust known = remembered != null && remembered.channel.equals(channel) ? remembered : null;
            return new Trust(channel, Math.max(versionOf(index), known == null ? 0 : known.indexVersion), signed || (known != null && known.signed));
        }
    }

    // ------------------------------------------------------------ signatures

    static final class Signatures {
        private Signatures() {}

        /** DER SubjectPublicKeyInfo of an Ed25519 key: this prefix, then the 32 key bytes. */
        private static final byte[] ED25519_SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
        /** DER SubjectPublicKeyInfo of a P-256 key (id-ecPublicKey, prime256v1): this prefix, then the 65-byte uncompressed point. */
        private static final byte[] P256_SPKI_PREFIX = {
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
        static final String ED25519 = "ed25519";
        static final String ECDSA_P256 = "ecdsa-p256-sha256";
        private static final Pattern KEY_ID = Pattern.compile("^[0-9a-f]{16}$");
        private static final Pattern BASE64 = Pattern.compile("^[A-Za-z0-9+/]*={0,2}$");

        static final class TrustedKey {
            final String keyId;
            final PublicKey key;
            /** ed25519 or ecdsa-p256-sha256: a signature verifies only by its key's algorithm. */
            final String algorithm;

            TrustedKey(String keyId, PublicKey key, String algorithm) {
                this.keyId = keyId;
                this.key = key;
                this.algorithm = algorithm;
            }
        }

        /** A trusted key from its DER SubjectPublicKeyInfo: Ed25519, or P-256 with an uncompressed point. */
        static TrustedKey fromSpki(byte[] der) throws GeneralSecurityException {
            boolean ed25519 = der.length == ED25519_SPKI_PREFIX.length + 32
                && Arrays.equals(Arrays.copyOf(der, ED25519_SPKI_PREFIX.length), ED25519_SPKI_PREFIX);
            boolean p256 = der.length == P256_SPKI_PREFIX.length + 65
                && Arrays.equals(Arrays.copyOf(der, P256_SPKI_PREFIX.length), P256_SPKI_PREFIX) && der[P256_SPKI_PREFIX.length] == 0x04;
            if (!ed25519 && !p256) throw new GeneralSecurityException("not an Ed25519 or ECDSA P-256 public key (SubjectPublicKeyInfo)");
            PublicKey key = KeyFactory.getInstance(ed25519 ? "Ed25519" : "EC").generatePublic(new X509EncodedKeySpec(der));
            return new TrustedKey(hex(sha256(der)).substring(0, 16), key, ed25519 ? ED25519 : ECDSA_P256);
        }

        /** A trusted key from the PEM `keys generate` writes; the key id is the first 16 hex of SHA-256 over its DER SubjectPublicKeyInfo. */
        static TrustedKey fromPem(String pem) throws GeneralSecurityException {
            Matcher m = Pattern.compile("-----BEGIN PUBLIC KEY-----([\\s\\S]*?)-----END PUBLIC KEY-----").matcher(pem);
            if (!m.find()) throw new GeneralSecurityException("not a PEM public key (-----BEGIN PUBLIC KEY-----)");
            return fromSpki(Base64.getMimeDecoder().decode(m.group(1).replaceAll("\\s+", "")));
        }

        /** The bytes a signature covers: canonical JSON of the document without its top-level `signatures`. */
        static byte[] canonicalBytes(Map<String, Object> document) {
            Map<String, Object> unsigned = new LinkedHashMap<>(document);
            unsigned.remove("signatures");
            return Json.canonical(unsigned).getBytes(StandardCharsets.UTF_8);
        }

        static Map<String, Object> check(Object document, List<TrustedKey> trusted) {
            return check(document, trusted, 1);
        }

        /** { ok: true, keyId } or { ok: false, reason: unsigned | malformed | unknown-key | bad-signature | under-threshold }: valid signatures by threshold distinct trusted keys. */
        @SuppressWarnings("unchecked")
        static Map<String, Object> check(Object document, List<TrustedKey> trusted, int threshold) {
            if (!(document instanceof Map)) return failure("malformed");
            Map<String, Object> map = (Map<String, Object>) document;
            Object signatures = map.get("signatures");
            if (!map.containsKey("signatures") || (signatures instanceof List && ((List<Object>) signatures).isEmpty())) return failure("unsigned");
            if (!(signatures instanceof List)) return failure("malformed");
            List<Map<String, Object>> entries = new ArrayList<>();
            for (Object entry : (List<Object>) signatures) {
                if (!(entry instanceof Map)) return failure("malformed");
                Map<String, Object> signature = (Map<String, Object>) entry;
                if (!(signature.get("keyid") instanceof String) || !KEY_ID.matcher((String) signature.get("keyid")).matches()) return failure("malformed");
                if (!(signature.get("sig") instanceof String) || !BASE64.matcher((String) signature.get("sig")).matches()) return failure("malformed");
                Object alg = signature.get("alg");
                if (alg != null && !ED25519.equals(alg) && !ECDSA_P256.equals(alg)) return failure("malformed");
                entries.add(signature);
            }
            byte[] bytes;
            try {
                bytes = canonicalBytes(map);
            } catch (IllegalArgumentException notCanonicalizable) {
                return failure("malformed");
            }
            boolean anyKnown = false;
            boolean anyInvalid = false;
            Set<String> valid = new LinkedHashSet<>();
            for (Map<String, Object> signature : entries) {
                for (TrustedKey key : trusted) {
                    if (!key.keyId.equals(signature.get("keyid"))) continue;
                    anyKnown = true;
                    String alg = signature.get("alg") == null ? ED25519 : (String) signature.get("alg");
                    if (alg.equals(key.algorithm) && verifies((String) signature.get("sig"), bytes, key)) valid.add(key.keyId);
                    else anyInvalid = true;
                }
            }
            if (valid.size() >= threshold) {
                Map<String, Object> ok = new LinkedHashMap<>();
                ok.put("ok", true);
                ok.put("keyId", valid.iterator().next());
                return ok;
            }
            if (!anyKnown) return failure("unknown-key");
            return failure(anyInvalid ? "bad-signature" : "under-threshold");
        }

        private static Map<String, Object> failure(String reason) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("ok", false);
            result.put("reason", reason);
            return result;
        }

        private static boolean verifies(String sig, byte[] bytes, TrustedKey trusted) {
            try {
                // ECDSA as KMS, HSMs and OpenSSL write it: DER over SHA-256 of the bytes.
                Signature verifier = Signature.getInstance(ECDSA_P256.equals(trusted.algorithm) ? "SHA256withECDSA" : "Ed25519");
                verifier.initVerify(trusted.key);
                verifier.update(bytes);
                return verifier.verify(Base64.getDecoder().decode(sig));
            } catch (GeneralSecurityException | IllegalArgumentException invalid) {
                return false;
            }
        }

        static String describe(String reason) {
            switch (reason) {
                case "unsigned": return "carries no signature although a public key is trusted; the store is unsigned or the signatures were removed";
                case "malformed": return "has malformed signatures or values no signature can cover";
                case "unknown-key": return "is not signed by a trusted key";
                case "under-threshold": return "is not signed by enough trusted keys (the threshold)";
                default: return "signature does not match the content: the document was altered";
            }
        }
    }

    // ---------------------------------------------------------- root of trust

    /** Trusted keys with how many distinct ones must sign (a root's signing role); a plain key list means one. */
    static final class TrustSet extends ArrayList<Signatures.TrustedKey> {
        final int threshold;

        TrustSet(List<Signatures.TrustedKey> keys, int threshold) {
            super(keys);
            this.threshold = threshold;
        }
    }

    /** A root refused: malformed, under-threshold, wrong-version, expired or too-many-links (PROTOCOL.md §15). */
    static final class RootRefusal extends Refusal {
        final String reason;

        RootRefusal(String reason, String message, int exitCode) {
            super(message, exitCode);
            this.reason = reason;
        }
    }

    /** root/<N>.root.json: the chain a device follows from the root it ships (PROTOCOL.md §15). */
    static final class Roots {
        static final int MAX_LINKS = 32;
        static final long MAX_BYTES = 512 * 1024;

        private Roots() {}

        static String key(long version) {
            return "root/" + version + ".root.json";
        }

        /** The root's fields checked; any problem is a malformed root. */
        @SuppressWarnings("unchecked")
        static Map<String, Object> validate(Object document, String where, int exitCode) throws RootRefusal {
            try {
                if (!(document instanceof Map)) throw new IllegalArgumentException("not a JSON object");
                Map<String, Object> root = (Map<String, Object>) document;
                if (!"root".equals(root.get("type"))) throw new IllegalArgumentException("\"type\" is not \"root\"");
                if (Json.integer(root, "version", where) < 1) throw new IllegalArgumentException("\"version\" is not a positive integer");
                if (!(root.get("expires") instanceof String) || parseTime((String) root.get("expires")) == null) throw new IllegalArgumentException("\"expires\" is not an ISO-8601 time");
                Map<String, Object> keys = Json.object(root.get("keys"), "keys");
                for (Map.Entry<String, Object> entry : keys.entrySet()) {
                    Map<String, Object> key = Json.object(entry.getValue(), "key");
                    Signatures.TrustedKey trusted = Signatures.fromSpki(Base64.getDecoder().decode(Json.string(key, "publicKey", "key")));
                    if (!trusted.keyId.equals(entry.getKey())) throw new IllegalArgumentException("key " + entry.getKey() + " has id " + trusted.keyId);
                    if (!trusted.algorithm.equals(key.get("algorithm"))) throw new IllegalArgumentException("key " + entry.getKey() + " is " + trusted.algorithm + ", not " + key.get("algorithm"));
                }
                Map<String, Object> roles = Json.object(root.get("roles"), "roles");
                for (String name : List.of("root", "signing")) {
                    Map<String, Object> role = Json.object(roles.get(name), "role " + name);
                    List<Object> ids = Json.list(role.get("keyids"), "keyids");
                    long threshold = Json.integer(role, "threshold", "role " + name);
                    if (threshold < 1) throw new IllegalArgumentException("role \"" + name + "\" has a threshold below 1");
                    if (new HashSet<>(ids).size() != ids.size()) throw new IllegalArgumentException("role \"" + name + "\" lists a key twice");
                    for (Object id : ids) if (!keys.containsKey(id)) throw new IllegalArgumentException("role \"" + name + "\" names key " + id + ", which \"keys\" does not list");
                    if (ids.size() < threshold) throw new IllegalArgumentException("role \"" + name + "\" has " + ids.size() + " keys, fewer than its threshold " + threshold);
                }
                return root;
            } catch (IllegalArgumentException | GeneralSecurityException | BadPackage problem) {
                throw new RootRefusal("malformed", where + " is not a valid root: " + problem.getMessage(), exitCode);
            }
        }

        /** A role's keys and threshold. */
        static TrustSet role(Map<String, Object> root, String name) throws Refusal {
            Map<String, Object> keys = Json.object(root.get("keys"), "keys");
            Map<String, Object> role = Json.object(Json.object(root.get("roles"), "roles").get(name), name);
            List<Signatures.TrustedKey> trusted = new ArrayList<>();
            try {
                for (Object id : Json.list(role.get("keyids"), "keyids")) {
                    trusted.add(Signatures.fromSpki(Base64.getDecoder().decode(Json.string(Json.object(keys.get(id), "key"), "publicKey", "key"))));
                }
            } catch (GeneralSecurityException invalid) {
                throw new RootRefusal("malformed", "a root key is not a public key", 1);
            }
            return new TrustSet(trusted, (int) Json.integer(role, "threshold", name));
        }

        /** How many more valid signatures by distinct keys of the set the document needs. */
        static int missing(Object document, TrustSet set) {
            int valid = 0;
            for (Signatures.TrustedKey key : set) if (Boolean.TRUE.equals(Signatures.check(document, List.of(key), 1).get("ok"))) valid++;
            return Math.max(0, set.threshold - valid);
        }

        /** The root a device trusts (shipped or remembered): valid and meeting its own root role. */
        static Map<String, Object> trusted(Object document, String where, int exitCode) throws Refusal {
            Map<String, Object> root = validate(document, where, exitCode);
            int own = missing(document, role(root, "root"));
            if (own > 0) throw new RootRefusal("under-threshold", where + " is not signed by enough of its own root keys (" + own + " more needed)", exitCode);
            return root;
        }

        /** Follows root/<N+1>.root.json from the trusted root, at most MAX_LINKS links; refuses an expired newest root. */
        static Map<String, Object> follow(Map<String, Object> trusted, java.util.function.LongFunction<Object> read, Instant now) throws Refusal {
            Map<String, Object> current = trusted;
            long start = Json.integer(trusted, "version", "root");
            for (int links = 0; ; links++) {
                long version = Json.integer(current, "version", "root");
                String key = key(version + 1);
                Object document = read.apply(version + 1);
                if (document == null) break;
                if (document instanceof Refusal) throw (Refusal) document;
                if (links == MAX_LINKS) throw new RootRefusal("too-many-links", key + ": the root chain has more than " + MAX_LINKS + " new links since root " + start + "; refusing to follow further in one run", 1);
                Map<String, Object> next = validate(document, key, 1);
                if (Json.integer(next, "version", key) != version + 1) throw new RootRefusal("wrong-version", key + " is root version " + Json.write(next.get("version")) + ", not " + (version + 1) + ": it was put in place of another", 1);
                int previous = missing(document, role(current, "root"));
                int own = missing(document, role(next, "root"));
                if (previous > 0 || own > 0) throw new RootRefusal("under-threshold", key + " is not signed by enough root keys (" + previous + " more by the root keys of root " + version + ", " + own + " more by its own): it is not a root to trust", 1);
                current = next;
            }
            Instant expires = parseTime((String) current.get("expires"));
            if (!now.isBefore(expires)) throw new RootRefusal("expired", key(Json.integer(current, "version", "root")) + " (the newest root) expired at " + current.get("expires") + ": the publisher must publish the next root", 1);
            return current;
        }
    }

    // ------------------------------------------------------------ encryption

    /** AES-256-GCM in chunks, as PROTOCOL.md "Encryption" frames it: memory bounded by one chunk. */
    static final class Decryptor {
        static final int HEADER_SIZE = 25;
        static final int TAG_SIZE = 16;
        static final int MAX_CHUNK = 65536;
        private static final byte[] MAGIC = "UPE1".getBytes(StandardCharsets.US_ASCII);

        private Decryptor() {}

        static String keyId(byte[] key) {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
                return hex(Arrays.copyOf(mac.doFinal("update-publish encryption key id v1".getBytes(StandardCharsets.UTF_8)), 8));
            } catch (GeneralSecurityException impossible) {
                throw new IllegalStateException(impossible);
            }
        }

        /** A 32-byte key from 64 hex digits or base64 (standard or URL-safe). */
        static byte[] decodeKey(String text, String source) throws Refusal {
            String trimmed = text.trim();
            byte[] key = null;
            try {
                if (trimmed.matches("[0-9a-fA-F]{64}")) {
                    key = new byte[32];
                    for (int i = 0; i < 32; i++) key[i] = (byte) Integer.parseInt(trimmed.substring(2 * i, 2 * i + 2), 16);
                } else if (trimmed.matches("[A-Za-z0-9+/_-]+={0,2}")) {
                    key = Base64.getDecoder().decode(trimmed.replace('-', '+').replace('_', '/'));
                }
            } catch (IllegalArgumentException notBase64) {
                key = null;
            }
            if (key == null || key.length != 32) throw Refusal.input("--decryption-key: " + source + " is not a 32-byte key in base64 or hex");
            return key;
        }

        /** Opens `in` into `out`; `keys` may hold several (the header's key id picks one); expectedKeyId (the manifest's) must match the header. */
        static long decrypt(InputStream in, OutputStream out, List<byte[]> keys, String expectedKeyId) throws IOException, DecryptRefusal {
            byte[] header = in.readNBytes(HEADER_SIZE);
            if (header.length < HEADER_SIZE) {
                throw new DecryptRefusal("truncated", header.length == 0 ? "encrypted object is empty" : "encrypted object is shorter than its header: it was truncated");
            }
            if (!Arrays.equals(Arrays.copyOf(header, 4), MAGIC)) throw new DecryptRefusal("not-encrypted", "object is not an encrypted update-publish package (no UPE1 header)");
            if (header[4] != 1) throw new DecryptRefusal("unsupported-version", "encrypted object uses format version " + (header[4] & 0xff) + ", this client reads version 1");
            String objectKeyId = hex(Arrays.copyOfRange(header, 5, 13));
            if (expectedKeyId != null && !expectedKeyId.equals(objectKeyId)) {
                throw new DecryptRefusal("wrong-key", "object was encrypted with key " + objectKeyId + ", but key " + expectedKeyId + " was expected");
            }
            byte[] key = null;
            for (byte[] candidate : keys) if (keyId(candidate).equals(objectKeyId)) key = candidate;
            if (key == null) throw new DecryptRefusal("wrong-key", "object was encrypted with key " + objectKeyId + ", which is not a key given");
            long chunkSize = ((header[21] & 0xffL) << 24) | ((header[22] & 0xffL) << 16) | ((header[23] & 0xffL) << 8) | (header[24] & 0xffL);
            // Unauthenticated until chunk 0 opens: cap what it can make us buffer.
            if (chunkSize == 0 || chunkSize > MAX_CHUNK) throw new DecryptRefusal("tampered", "encrypted object declares chunk size " + chunkSize + ": it was altered");
            int record = (int) chunkSize + TAG_SIZE;
            byte[] buffer = new byte[record];
            long written = 0;
            for (long index = 0; ; index++) {
                int n = in.readNBytes(buffer, 0, record);
                // A record of full size is never the last: the final chunk is always shorter (possibly empty).
                boolean last = n < record;
                if (last && n < TAG_SIZE) throw new DecryptRefusal("truncated", "encrypted object ends after chunk " + (index - 1) + " without its final chunk: it was truncated");
                if (index > 0xffffffffL) throw new DecryptRefusal("tampered", "encrypted object has more chunks than the format allows");
                byte[] plain = openChunk(key, header, index, buffer, n, last);
                out.write(plain);
                written += plain.length;
                if (last) return written;
            }
        }

        private static byte[] openChunk(byte[] key, byte[] header, long index, byte[] sealed, int length, boolean last) throws DecryptRefusal {
            byte[] nonce = new byte[12];
            System.arraycopy(header, 13, nonce, 0, 8);
            writeU32(nonce, 8, index);
            byte[] aad = Arrays.copyOf(header, HEADER_SIZE + 5);
            writeU32(aad, HEADER_SIZE, index);
            aad[HEADER_SIZE + 4] = (byte) (last ? 1 : 0);
            try {
                Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
                cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_SIZE * 8, nonce));
                cipher.updateAAD(aad);
                return cipher.doFinal(sealed, 0, length);
            } catch (AEADBadTagException bad) {
                throw new DecryptRefusal("tampered", "encrypted object fails authentication at chunk " + index + ": it was altered, truncated or reordered");
            } catch (GeneralSecurityException unavailable) {
                throw new IllegalStateException(unavailable);
            }
        }

        private static void writeU32(byte[] target, int at, long value) {
            target[at] = (byte) (value >>> 24);
            target[at + 1] = (byte) (value >>> 16);
            target[at + 2] = (byte) (value >>> 8);
            target[at + 3] = (byte) value;
        }
    }

    // -------------------------------------------------------------- packages

    /** One file a manifest lists. */
    static final class ManifestFile {
        final String path;
        final long size;
        final String sha256;

        ManifestFile(String path, long size, String sha256) {
            this.path = path;
            this.size = size;
            this.sha256 = sha256;
        }

        static List<ManifestFile> listOf(Object files) throws BadPackage {
            List<ManifestFile> list = new ArrayList<>();
            for (Object item : Json.list(files, "manifest.files")) {
                Map<String, Object> file = Json.object(item, "manifest file");
                list.add(new ManifestFile(Json.string(file, "path", "file"), Json.integer(file, "size", "file"), Json.string(file, "sha256", "file")));
            }
            return list;
        }
    }

    /** Why a path may not be a package entry or object key, or null: only plain relative POSIX paths pass. */
    static String pathProblem(String path) {
        if (path.isEmpty()) return "the path is empty";
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return "it contains a control character";
        }
        if (path.indexOf('\\') >= 0) return "it contains a backslash";
        if (path.startsWith("/")) return "it is an absolute path";
        if (path.length() >= 2 && Character.isLetter(path.charAt(0)) && path.charAt(0) < 0x80 && path.charAt(1) == ':') return "it starts with a drive letter";
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty()) return "it has an empty segment (// or a trailing /)";
            if (segment.equals("..")) return "it has a \"..\" segment";
            if (segment.equals(".")) return "it has a \".\" segment";
        }
        return null;
    }

    static Path safeJoin(Path root, String path) throws BadPackage {
        String problem = pathProblem(path);
        if (problem != null) throw new BadPackage("package entry " + Json.quote(path) + " is refused: " + problem + "; the package is corrupt or malicious, do not install it");
        Path target = root.resolve(path).normalize();
        if (!target.startsWith(root) || target.equals(root)) throw new BadPackage("package entry " + Json.quote(path) + " resolves outside the install folder");
        return target;
    }

    /**
     * Builds in treeDir (a fresh folder) exactly the files the manifest lists:
     * the zip's entries and, for a delta (baseDir not null), every other file
     * copied from the installed copy. Every file is checked against its size
     * and SHA-256 as it is written; nothing else is carried over, so removed
     * files, emptied folders and a folder that became a file need no special case.
     */
    static void buildTree(List<ManifestFile> files, Path zip, String objectKey, Path baseDir, Path treeDir) throws IOException, Refusal {
        Files.createDirectories(treeDir);
        Map<String, ManifestFile> expected = new LinkedHashMap<>();
        for (ManifestFile file : files) expected.put(file.path, file);
        for (ManifestFile file : files) {
            for (int slash = file.path.indexOf('/'); slash > 0; slash = file.path.indexOf('/', slash + 1)) {
                if (expected.containsKey(file.path.substring(0, slash))) throw new BadPackage(objectKey + ": the manifest lists " + Json.quote(file.path.substring(0, slash)) + " as a file and as a folder");
            }
        }
        Set<String> extracted = new HashSet<>();
        String link = symbolicLinkEntry(zip);
        if (link != null) throw new BadPackage("package entry " + Json.quote(link) + " is refused: it is a symbolic link; the package is corrupt or malicious, do not install it");
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(zip))) {
            raw.mark(4);
            byte[] signature = raw.readNBytes(4);
            raw.reset();
            // ZipInputStream takes anything without a local header for an empty zip: only a zip may pass.
            boolean isZip = signature.length == 4 && signature[0] == 'P' && signature[1] == 'K' && ((signature[2] == 3 && signature[3] == 4) || (signature[2] == 5 && signature[3] == 6));
            if (!isZip) throw new BadPackage(objectKey + ": is not a zip");
            ZipInputStream entries = new ZipInputStream(raw, StandardCharsets.UTF_8);
            ZipEntry entry;
            while ((entry = entries.getNextEntry()) != null) {
                String name = entry.getName();
                Path target = safeJoin(treeDir, name);
                ManifestFile file = expected.get(name);
                if (file == null) throw new BadPackage(objectKey + ": holds " + Json.quote(name) + ", which the manifest does not list");
                if (!extracted.add(name)) throw new BadPackage(objectKey + ": holds " + Json.quote(name) + " twice");
                if (!writeChecked(entries, target, file)) throw new BadPackage(objectKey + ": entry " + Json.quote(name) + " is not the file the manifest lists (size or SHA-256)");
            }
        } catch (ZipException unreadable) {
            throw new BadPackage(objectKey + ": is not a valid package zip (" + unreadable.getMessage() + ")");
        }
        List<ManifestFile> rest = new ArrayList<>();
        for (ManifestFile file : files) if (!extracted.contains(file.path)) rest.add(file);
        if (baseDir == null) {
            if (!rest.isEmpty()) throw new BadPackage(objectKey + ": lacks " + rest.size() + " file(s) the manifest lists, e.g. " + Json.quote(rest.get(0).path));
            return;
        }
        Path realBase = baseDir.toRealPath();
        for (ManifestFile file : rest) {
            Path source = realBase.resolve(file.path).normalize();
            if (pathProblem(file.path) != null || !source.startsWith(realBase)) throw new BadPackage("manifest lists an unsafe path " + Json.quote(file.path));
            if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) throw new DamagedBase(file.path, Files.exists(source, LinkOption.NOFOLLOW_LINKS) ? "is not a regular file" : "is missing");
            // A symlinked parent folder would read from elsewhere: only real paths inside the base count.
            if (!source.toRealPath().startsWith(realBase)) throw new DamagedBase(file.path, "lies behind a symbolic link");
            try (InputStream in = Files.newInputStream(source, LinkOption.NOFOLLOW_LINKS)) {
                if (!writeChecked(in, safeJoin(treeDir, file.path), file)) throw new DamagedBase(file.path, "was changed since it was installed");
            }
        }
    }

    /**
     * The first entry the zip's central directory marks as a symbolic link (Unix mode S_IFLNK in the
     * external attributes), or null. ZipInputStream reads local headers only and would write a link
     * as a regular file holding its target.
     */
    static String symbolicLinkEntry(Path zip) throws IOException, BadPackage {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(zip)) {
            long size = channel.size();
            // The end records: EOCD (22 bytes + a comment up to 64 KiB), and before it the zip64 locator and record.
            int tailLength = (int) Math.min(size, 22 + 65535 + 20 + 56);
            java.nio.ByteBuffer tail = read(channel, size - tailLength, tailLength);
            int end = -1;
            for (int at = tailLength - 22; at >= 0; at--) {
                if (tail.getInt(at) == 0x06054b50) {
                    end = at;
                    break;
                }
            }
            if (end < 0) return null; // not a zip: ZipInputStream refuses it below
            long entries = tail.getShort(end + 10) & 0xffff;
            long offset = tail.getInt(end + 16) & 0xffffffffL;
            long directoryEnd = size - tailLength + end;
            if ((offset == 0xffffffffL || entries == 0xffff) && end >= 20 && tail.getInt(end - 20) == 0x07064b50) {
                long record = tail.getLong(end - 12);
                if (record < 0 || record + 56 > size) throw new BadPackage(zip.getFileName() + ": is not a valid package zip (zip64 end record)");
                java.nio.ByteBuffer zip64 = read(channel, record, 56);
                if (zip64.getInt(0) != 0x06064b50) throw new BadPackage(zip.getFileName() + ": is not a valid package zip (zip64 end record)");
                entries = zip64.getLong(32);
                offset = zip64.getLong(48);
                directoryEnd = record;
            }
            if (offset < 0 || offset > directoryEnd || directoryEnd - offset > Integer.MAX_VALUE) throw new BadPackage(zip.getFileName() + ": is not a valid package zip (central directory)");
            java.nio.ByteBuffer directory = read(channel, offset, (int) (directoryEnd - offset));
            int at = 0;
            for (long i = 0; i < entries; i++) {
                if (at + 46 > directory.limit() || directory.getInt(at) != 0x02014b50) throw new BadPackage(zip.getFileName() + ": is not a valid package zip (central directory)");
                int nameLength = directory.getShort(at + 28) & 0xffff;
                int extraLength = directory.getShort(at + 30) & 0xffff;
                int commentLength = directory.getShort(at + 32) & 0xffff;
                long mode = (directory.getInt(at + 38) & 0xffffffffL) >>> 16;
                if (at + 46 + nameLength > directory.limit()) throw new BadPackage(zip.getFileName() + ": is not a valid package zip (central directory)");
                if ((mode & 0170000) == 0120000) {
                    byte[] name = new byte[nameLength];
                    directory.get(at + 46, name);
                    return new String(name, StandardCharsets.UTF_8);
                }
                at += 46 + nameLength + extraLength + commentLength;
            }
            return null;
        }
    }

    private static java.nio.ByteBuffer read(java.nio.channels.FileChannel channel, long position, int length) throws IOException {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) if (channel.read(buffer, position + buffer.position()) < 0) break;
        buffer.flip();
        return buffer;
    }

    /** Copies at most size+1 bytes into a new file; true when they are exactly the listed size and SHA-256. */
    private static boolean writeChecked(InputStream in, Path target, ManifestFile file) throws IOException {
        Files.createDirectories(target.getParent());
        MessageDigest digest = sha256Digest();
        long size = 0;
        byte[] buffer = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                size += n;
                if (size > file.size) return false;
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
            }
        }
        return size == file.size && hex(digest.digest()).equals(file.sha256);
    }

    // ------------------------------------------------------------------ HTTP

    /** Reads the store over HTTP(S) as a device does: bounded documents, stalls and crawls refused, cut downloads resumed. */
    static final class Http {
        static final int STALL_MS = 30_000;
        static final long MIN_BYTES_PER_SECOND = 1024;
        static final long MIN_SPEED_GRACE_MS = 60_000;
        static final int RESUME_ATTEMPTS = 3;
        /** PROTOCOL.md §19.3: a document must arrive whole (headers included) within this; a package gets it plus its size at DEADLINE_BYTES_PER_SECOND. */
        static final long DOCUMENT_DEADLINE_MS = 60_000;
        static final long DEADLINE_BYTES_PER_SECOND = 16 * 1024;
        private static final java.util.Timer DEADLINES = new java.util.Timer("update-client-deadlines", true);
        private final String base;
        /** A private store's credentials; null for a public store. */
        private Credentials credentials;
        /** The credential held: a Cookie header, or a signed URL's query to add. Never printed. */
        private String cookieHeader;
        private String signedQuery;
        long documentDeadlineMs = DOCUMENT_DEADLINE_MS;

        /**
         * Disconnects the current connection of a read once its deadline passes: a read timeout alone
         * never fires while a server trickles a byte (of the headers or the body) every few seconds.
         */
        final class Deadline implements AutoCloseable {
            final long ms;
            volatile HttpURLConnection current;
            volatile boolean passed;
            private final java.util.TimerTask task;

            Deadline(long ms) {
                this.ms = ms;
                task = new java.util.TimerTask() {
                    @Override
                    public void run() {
                        passed = true;
                        HttpURLConnection connection = current;
                        if (connection != null) connection.disconnect();
                    }
                };
                DEADLINES.schedule(task, ms);
            }

            HttpURLConnection watch(HttpURLConnection connection) {
                current = connection;
                if (passed) connection.disconnect();
                return connection;
            }

            Refusal refusal(String key) {
                return Refusal.source("GET " + base + key + " took longer than " + (ms + 999) / 1000 + " s in all (headers included), its deadline; check the network or the CDN");
            }

            @Override
            public void close() {
                task.cancel();
            }
        }

        Http(String baseUrl) throws Refusal {
            String withSlash = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
            try {
                URI uri = new URI(withSlash);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) throw new IllegalArgumentException();
                if (uri.getUserInfo() != null) throw Refusal.input("--from must not hold credentials; give the base URL the store is served at");
            } catch (java.net.URISyntaxException | IllegalArgumentException notUrl) {
                throw Refusal.input("--from '" + baseUrl + "' is not an http(s) URL; give the base URL the store is served at, e.g. https://cdn.example.com/updates/");
            }
            base = withSlash;
        }

        String location() {
            return base;
        }

        private URL urlOf(String key) throws Refusal {
            String problem = pathProblem(key);
            if (problem != null) throw new BadPackage(Json.quote(key) + " is not a plain relative object key (" + problem + "); the document naming it was altered");
            StringBuilder path = new StringBuilder();
            for (String segment : key.split("/")) {
                if (path.length() > 0) path.append('/');
                path.append(encodeSegment(segment));
            }
            try {
                return new URL(base + path);
            } catch (java.net.MalformedURLException bad) {
                throw Refusal.input("cannot build a URL from " + base + " and " + key);
            }
        }

        /** encodeURIComponent: what the reference client sends, so both hit the same CDN cache entries. */
        private static String encodeSegment(String segment) {
            StringBuilder sb = new StringBuilder();
            for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
                char c = (char) (b & 0xff);
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-_.!~*'()".indexOf(c) >= 0) sb.append(c);
                else sb.append(String.format("%%%02X", b & 0xff));
            }
            return sb.toString();
        }

        private HttpURLConnection open(String key, String range, String ifRange) throws IOException, Refusal {
            HttpURLConnection connection = (HttpURLConnection) new URL(Credential.withQuery(urlOf(key).toString(), signedQuery)).openConnection();
            if (cookieHeader != null) connection.setRequestProperty("Cookie", cookieHeader);
            connection.setConnectTimeout(STALL_MS);
            connection.setReadTimeout(STALL_MS);
            connection.setRequestProperty("Accept-Encoding", "identity");
            if (range != null) connection.setRequestProperty("Range", range);
            if (ifRange != null) connection.setRequestProperty("If-Range", ifRange);
            return connection;
        }

        private int status(HttpURLConnection connection, String key) throws Refusal {
            try {
                return connection.getResponseCode();
            } catch (IOException unreachable) {
                throw Refusal.source("cannot reach " + base + key + ": " + unreachable.getMessage() + "; check the URL and the network");
            }
        }

        private Refusal httpError(String key, int status) {
            return Refusal.source("GET " + base + key + " answered HTTP " + status + "; check the URL and the CDN");
        }

        /**
         * Opens a GET and reads its status. A private store's credentials are
         * asked for before the first package object (every scope makes those
         * private) or after a 403; a 403 is retried once with a fresh one (an
         * expired entitlement), a second is a refusal.
         */
        /** Opens the request under the read's deadline (watched before the status is read: trickled headers count too). */
        private HttpURLConnection connect(String key, String range, String ifRange, Deadline deadline) throws IOException, Refusal {
            if (credentials != null && cookieHeader == null && signedQuery == null && key.startsWith("packages/")) obtainCredentials();
            for (boolean retried = false; ; retried = true) {
                HttpURLConnection connection = deadline.watch(open(key, range, ifRange));
                if (status(connection, key) != 403) return connection;
                connection.disconnect();
                if (credentials == null) {
                    throw Refusal.source("GET " + base + key + " answered HTTP 403: the store requires credentials for it (or, behind a private bucket, it is missing); pass --credentials-command CMD, a command printing what 'update-publish access sign --json' prints");
                }
                if (retried) {
                    throw Refusal.source("GET " + base + key + " answered HTTP 403 to a fresh credential: the credentials given do not open it (another key pair, resource or address, or already expired); check what the credentials command signs");
                }
                obtainCredentials();
            }
        }

        /** Asks the callback; what it returns must be what `access sign --json` prints (Credential.parse). */
        private void obtainCredentials() throws Refusal {
            String text;
            try {
                text = credentials.get();
            } catch (Refusal refusal) {
                throw refusal;
            } catch (Exception failed) {
                throw Refusal.source("the credentials callback failed (" + failed.getClass().getSimpleName() + "); check the app's entitlement call");
            }
            Credential credential = Credential.parse(text);
            cookieHeader = credential.cookieHeader;
            signedQuery = credential.signedQuery;
        }

        /** A document of at most maxBytes; null when absent (404). */
        byte[] readDocument(String key, long maxBytes) throws Refusal {
            try (Deadline deadline = new Deadline(documentDeadlineMs)) {
                try {
                    return readDocument(key, maxBytes, deadline);
                } catch (Refusal refused) {
                    throw deadline.passed ? deadline.refusal(key) : refused;
                }
            }
        }

        private byte[] readDocument(String key, long maxBytes, Deadline deadline) throws Refusal {
            try {
                HttpURLConnection connection = connect(key, null, null, deadline);
                int status = status(connection, key);
                if (status == 404) return null;
                if (status / 100 != 2) throw httpError(key, status);
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                try (InputStream in = connection.getInputStream()) {
                    copy(in, body, key, 0, maxBytes, "is larger than the " + maxBytes + " bytes a device reads for it: refused (an endless or swapped document)");
                }
                return body.toByteArray();
            } catch (IOException cut) {
                if (deadline.passed) throw deadline.refusal(key);
                throw Refusal.source("GET " + base + key + " failed: " + cut.getMessage() + "; check the network and try again");
            }
        }

        /** Downloads an object to target (at most expectedSize bytes), resuming a cut transfer with Range and If-Range. Returns bytes written. */
        long download(String key, Path target, long expectedSize) throws Refusal, IOException {
            try (Deadline deadline = new Deadline(documentDeadlineMs + (long) Math.ceil(expectedSize * 1000.0 / DEADLINE_BYTES_PER_SECOND))) {
                try {
                    return download(key, target, expectedSize, deadline);
                } catch (Refusal | IOException failed) {
                    if (deadline.passed) throw deadline.refusal(key);
                    throw failed;
                }
            }
        }

        private long download(String key, Path target, long expectedSize, Deadline deadline) throws Refusal, IOException {
            HttpURLConnection connection = connect(key, null, null, deadline);
            int status = status(connection, key);
            if (status == 404) throw new BadPackage(key + ": is missing from the store");
            if (status / 100 != 2) throw httpError(key, status);
            String etag = connection.getHeaderField("ETag");
            // What the server announced: a body that ends short of it was cut (HttpURLConnection may report that as a plain end).
            long announced = connection.getContentLengthLong();
            long received = 0;
            String tooLarge = "is larger than the " + expectedSize + " bytes the manifest lists: it was altered or replaced";
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (int attempt = 1; ; attempt++) {
                    String cut = null;
                    try (InputStream in = connection.getInputStream()) {
                        received = copy(in, out, key, received, expectedSize, tooLarge);
                        if (announced >= 0 && received < announced) cut = "the body ended after " + received + " of " + announced + " bytes";
                    } catch (java.net.SocketTimeoutException stalled) {
                        throw Refusal.source("GET " + base + key + " stalled: nothing received for " + STALL_MS / 1000 + " s; check the network or the CDN");
                    } catch (IOException broken) {
                        cut = broken.getMessage();
                    }
                    if (cut == null) return received;
                    if (etag == null || attempt > RESUME_ATTEMPTS) throw Refusal.source("the connection to " + base + key + " was cut mid-body (" + cut + "); check the network and try again");
                    // If-Range: a changed object is sent whole (200), never spliced onto what we have.
                    // An entitlement that expired meanwhile is renewed by connect(): the download resumes with the fresh one.
                    connection = connect(key, "bytes=" + received + "-", etag, deadline);
                    int resumed = status(connection, key);
                    String range = connection.getHeaderField("Content-Range");
                    if (resumed != 206 || range == null || !range.startsWith("bytes " + received + "-")) {
                        throw Refusal.source("GET " + base + key + " was cut and could not be resumed (the server answered " + resumed + " to a Range request, or the object changed); try again");
                    }
                }
            }
        }

        /** Copies in to out until the end, refusing past `limit` total bytes, a stall (read timeout) and a crawl. Returns the new total. */
        private long copy(InputStream in, OutputStream out, String key, long already, long limit, String tooLarge) throws IOException, Refusal {
            long started = System.nanoTime();
            long total = already;
            long here = 0;
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                here += n;
                if (total > limit) throw new BadPackage(key + ": " + tooLarge);
                out.write(buffer, 0, n);
                long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                if (elapsedMs > MIN_SPEED_GRACE_MS && here * 1000 / elapsedMs < MIN_BYTES_PER_SECOND) {
                    throw Refusal.source("GET " + base + key + " is too slow: " + (here * 1000 / elapsedMs) + " bytes/s (minimum " + MIN_BYTES_PER_SECOND + "); check the network or the CDN");
                }
            }
            return total;
        }
    }

    /**
     * A private store's credential (PROTOCOL.md "Private stores"): CloudFront's
     * signed cookies as one Cookie header, or a signed URL's signing parameters
     * as they appear in it, to add to each private request. Nothing else of
     * what the app handed over is kept.
     */
    static final class Credential {
        static final List<String> SIGNED_URL_PARAMETERS = List.of("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm");
        static final List<String> SIGNED_COOKIES = List.of("CloudFront-Expires", "CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id", "CloudFront-Hash-Algorithm");
        private static final Pattern VALUE = Pattern.compile("^[A-Za-z0-9_~-]+$");
        private static final String NOT_A_CREDENTIAL = "the credentials given are not what 'update-publish access sign --json' prints: ";

        final String cookieHeader;
        final String signedQuery;

        private Credential(String cookieHeader, String signedQuery) {
            this.cookieHeader = cookieHeader;
            this.signedQuery = signedQuery;
        }

        static Credential parse(String text) throws Refusal {
            Object parsed;
            try {
                parsed = Json.parse(text == null ? "" : text);
            } catch (RuntimeException notJson) {
                parsed = null;
            }
            if (!(parsed instanceof Map)) throw Refusal.source(NOT_A_CREDENTIAL + "it is not a JSON object");
            Map<?, ?> credential = (Map<?, ?>) parsed;
            if (!(credential.get("expires") instanceof String) || ((String) credential.get("expires")).isEmpty()) throw Refusal.source(NOT_A_CREDENTIAL + "it has no \"expires\" time");
            if (credential.get("cookies") instanceof Map) {
                Map<String, String> kept = new LinkedHashMap<>();
                for (Map.Entry<?, ?> cookie : ((Map<?, ?>) credential.get("cookies")).entrySet()) {
                    if (SIGNED_COOKIES.contains(cookie.getKey()) && cookie.getValue() instanceof String && VALUE.matcher((String) cookie.getValue()).matches()) {
                        kept.put((String) cookie.getKey(), (String) cookie.getValue());
                    }
                }
                if (!kept.containsKey("CloudFront-Signature") || !kept.containsKey("CloudFront-Key-Pair-Id") || !(kept.containsKey("CloudFront-Policy") || kept.containsKey("CloudFront-Expires"))) {
                    throw Refusal.source(NOT_A_CREDENTIAL + "\"cookies\" lacks CloudFront-Signature, CloudFront-Key-Pair-Id and CloudFront-Policy (or CloudFront-Expires)");
                }
                StringBuilder header = new StringBuilder();
                for (Map.Entry<String, String> cookie : kept.entrySet()) {
                    if (header.length() > 0) header.append("; ");
                    header.append(cookie.getKey()).append('=').append(cookie.getValue());
                }
                return new Credential(header.toString(), null);
            }
            if (credential.get("url") instanceof String) {
                String query = signedQuery((String) credential.get("url"));
                if (query == null) throw Refusal.source(NOT_A_CREDENTIAL + "\"url\" is not a signed URL (Signature, Key-Pair-Id and Policy or Expires)");
                return new Credential(null, query);
            }
            throw Refusal.source(NOT_A_CREDENTIAL + "it has neither \"cookies\" nor \"url\"");
        }

        /** The signing parameters of a signed URL, in its order and encoding; null when it is none. */
        static String signedQuery(String url) {
            int hash = url.indexOf('#');
            String withoutFragment = hash < 0 ? url : url.substring(0, hash);
            int at = withoutFragment.indexOf('?');
            if (at < 0) return null;
            List<String> pairs = new ArrayList<>();
            for (String pair : withoutFragment.substring(at + 1).split("&", -1)) {
                if (SIGNED_URL_PARAMETERS.contains(pair.split("=", 2)[0])) pairs.add(pair);
            }
            if (!has(pairs, "Signature") || !has(pairs, "Key-Pair-Id") || !(has(pairs, "Policy") || has(pairs, "Expires"))) return null;
            return String.join("&", pairs);
        }

        private static boolean has(List<String> pairs, String name) {
            for (String pair : pairs) if (pair.startsWith(name + "=") && pair.length() > name.length() + 1) return true;
            return false;
        }

        static String withQuery(String url, String signedQuery) {
            return signedQuery == null ? url : url + (url.indexOf('?') >= 0 ? "&" : "?") + signedQuery;
        }
    }

    // ------------------------------------------------------------- arguments

    static final class Options {
        String packageId;
        String from;
        String into;
        String channel = "production";
        Device device = new Device();
        List<String> publicKeys = new ArrayList<>();
        List<String> decryptionKeys = new ArrayList<>();
        String root;
        boolean nowGiven;
        Credentials credentials;
        /** --confirm-launch ok|failed: report the launch of the installed release instead of fetching. */
        String confirmLaunch;
        Long deadlineSeconds;

        static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");

        /** --now: an ISO-8601 time with an offset (a bare date is UTC midnight). */
        static Instant parseNow(String value) throws Refusal {
            Instant now = value.length() > 10 && !value.matches(".*(Z|z|[+-]\\d{2}:?\\d{2})$") ? null : parseTime(value);
            if (now == null) throw Refusal.input("--now '" + value + "' is not an ISO-8601 time with an offset; use e.g. 2026-12-01T00:00:00Z");
            return now;
        }

        static Options parse(String[] args) throws Refusal {
            Options options = new Options();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (!arg.startsWith("--")) {
                    if (options.packageId != null) throw Refusal.input("unexpected argument '" + arg + "'; give one package");
                    options.packageId = arg;
                    continue;
                }
                if (arg.equals("--help")) throw Refusal.input("usage: java UpdateClient.java <package> --from <base-url> --into <dir> [--channel C] [--platform P] [--app-version V] [--device-id D] [--attr k=v,...] [--public-key FILE] [--root FILE] [--decryption-key env:NAME] [--now ISO] [--deadline SECONDS] [--credentials-command CMD]");
                if (i + 1 >= args.length) throw Refusal.input(arg + " needs a value");
                String value = args[++i];
                switch (arg) {
                    case "--from": options.from = value; break;
                    case "--into": options.into = value; break;
                    case "--channel": options.channel = value; break;
                    case "--platform": options.device.platform = value; break;
                    case "--app-version":
                        if (Version.strict(value) == null) throw Refusal.input("--app-version '" + value + "' is not a SemVer 2.0.0 version (no leading 'v', no spaces); use e.g. 2.0.0");
                        options.device.appVersion = value;
                        break;
                    case "--device-id": options.device.deviceId = value; break;
                    case "--attr": options.device.attributes = parseAttributes(value); break;
                    case "--public-key": options.publicKeys.add(value); break;
                    case "--root": options.root = value; break;
                    case "--decryption-key": options.decryptionKeys.add(value); break;
                    case "--credentials-command": options.credentials = commandCredentials(value); break;
                    case "--confirm-launch":
                        if (!value.equals("ok") && !value.equals("failed")) throw Refusal.input("--confirm-launch '" + value + "' is not ok or failed");
                        options.confirmLaunch = value;
                        break;
                    case "--deadline":
                        if (!value.matches("[1-9][0-9]{0,5}")) throw Refusal.input("--deadline '" + value + "' is not a whole number of seconds; use e.g. 60");
                        options.deadlineSeconds = Long.parseLong(value);
                        break;
                    case "--now":
                        options.device.now = parseNow(value);
                        options.nowGiven = true;
                        break;
                    default: throw Refusal.input("unknown option " + arg + "; see --help");
                }
            }
            if (options.packageId == null) throw Refusal.input("give the package to fetch, e.g. java UpdateClient.java maps --from https://cdn.example.com/updates --into ./maps");
            if (!NAME.matcher(options.packageId).matches()) throw Refusal.input("package '" + options.packageId + "' is not a valid name; use lowercase letters, digits, '.', '_' or '-'");
            if (!NAME.matcher(options.channel).matches()) throw Refusal.input("channel '" + options.channel + "' is not a valid name; use lowercase letters, digits, '.', '_' or '-'");
            if (options.from == null && options.confirmLaunch == null) throw Refusal.input("--from <base-url> is required: the http(s) URL the store is served at");
            if (options.into == null) throw Refusal.input("--into <dir> is required: the folder holding the installed package");
            options.device.packageId = options.packageId;
            return options;
        }

        static final int CREDENTIALS_OUTPUT_LIMIT = 64 * 1024;
        static final long CREDENTIALS_TIMEOUT_SECONDS = 60;

        /**
         * Credentials from a shell command printing what `access sign --json`
         * prints. Named in messages by its first word only (the rest may carry
         * a token); what it prints never is.
         */
        static Credentials commandCredentials(String command) {
            String name = "credentials command '" + command.trim().split("\\s+")[0].replaceAll("^['\"]|['\"]$", "") + "'";
            String fix = "; run it yourself to see why (it must print what 'update-publish access sign --json' prints)";
            return () -> {
                Process process;
                try {
                    process = new ProcessBuilder("sh", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                } catch (IOException notStarted) {
                    throw Refusal.source(name + " could not start" + fix);
                }
                byte[] printed = process.getInputStream().readNBytes(CREDENTIALS_OUTPUT_LIMIT + 1);
                if (!process.waitFor(CREDENTIALS_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw Refusal.source(name + " did not finish within " + CREDENTIALS_TIMEOUT_SECONDS + " s" + fix);
                }
                if (printed.length > CREDENTIALS_OUTPUT_LIMIT) throw Refusal.source(name + " printed more than " + CREDENTIALS_OUTPUT_LIMIT / 1024 + " KiB" + fix);
                if (process.exitValue() != 0) throw Refusal.source(name + " failed (exit " + process.exitValue() + ")" + fix);
                String text = new String(printed, StandardCharsets.UTF_8);
                try {
                    Json.parse(text);
                } catch (RuntimeException notJson) {
                    throw Refusal.source(name + " printed something that is not JSON" + fix);
                }
                return text;
            };
        }

        static Map<String, String> parseAttributes(String text) throws Refusal {
            Map<String, String> attributes = new LinkedHashMap<>();
            for (String pair : text.split(",")) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? "" : pair.substring(0, eq).trim();
                if (name.isEmpty()) throw Refusal.input("--attr '" + text + "' is not k=v pairs; use e.g. region=eu,locale=de");
                if (attributes.containsKey(name)) throw Refusal.input("--attr gives '" + name + "' twice; give each attribute once");
                attributes.put(name, pair.substring(eq + 1).trim());
            }
            return attributes;
        }
    }

    // ------------------------------------------------------------- receipts

    /**
     * Device receipts (PROTOCOL.md §15): the query a receipt is sent as, how a
     * reader decodes and counts them, per-install sampling, and what the device
     * keeps beside the install folder (install id, queue, the crash-loop guard).
     */
    static final class Receipts {
        static final List<String> EVENTS = List.of("check", "download_ok", "download_failed", "verify_failed", "apply_failed", "applied", "launch_ok", "launch_failed", "rolled_back");
        static final List<String> KINDS = List.of("full", "delta", "patched");
        static final List<String> FIELDS = List.of("e", "ch", "pkg", "rel", "from", "pf", "av", "iid", "eid", "t", "k", "sz", "rc", "iv");
        static final Set<String> NUMBER_FIELDS = Set.of("t", "sz", "iv");
        static final int MAX_QUEUED = 200;
        static final int MAX_QUEUED_BYTES = 64 * 1024;
        static final int TIMEOUT_MS = 5_000;
        static final int DEFAULT_MAX_STARTS = 2;
        static final double Z95 = 1.959963984540054;
        static final Pattern WHOLE = Pattern.compile("^\\d{1,16}$");
        static final DateTimeFormatter ISO_MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

        private Receipts() {}

        /** encodeURIComponent. */
        static String encodeComponent(String text) {
            StringBuilder sb = new StringBuilder();
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                char c = (char) (b & 0xff);
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-_.!~*'()".indexOf(c) >= 0) sb.append(c);
                else sb.append(String.format("%%%02X", b & 0xff));
            }
            return sb.toString();
        }

        /** '+' is a space; null when the percent-encoding or the UTF-8 under it is broken (as decodeURIComponent throws). */
        static String decodeComponent(String text) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '+') {
                    out.write(' ');
                } else if (c == '%') {
                    if (i + 2 >= text.length()) return null;
                    int hi = Character.digit(text.charAt(i + 1), 16);
                    int lo = Character.digit(text.charAt(i + 2), 16);
                    if (hi < 0 || lo < 0) return null;
                    out.write(hi * 16 + lo);
                    i += 2;
                } else {
                    int end = Character.isHighSurrogate(c) && i + 1 < text.length() ? i + 2 : i + 1;
                    out.writeBytes(text.substring(i, end).getBytes(StandardCharsets.UTF_8));
                    i = end - 1;
                }
            }
            try {
                return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(out.toByteArray())).toString();
            } catch (java.nio.charset.CharacterCodingException broken) {
                return null;
            }
        }

        static String text(Object value) {
            if (value instanceof Double) return Json.number((Double) value);
            if (value instanceof Number) return String.valueOf(((Number) value).longValue());
            return String.valueOf(value);
        }

        /** The query string: fields in FIELDS order, absent ones left out. */
        static String encode(Map<String, Object> receipt) {
            StringBuilder sb = new StringBuilder();
            for (String field : FIELDS) {
                Object value = receipt.get(field);
                if (value == null) continue;
                String text = text(value);
                if (text.isEmpty()) continue;
                if (sb.length() > 0) sb.append('&');
                sb.append(field).append('=').append(encodeComponent(text));
            }
            return sb.toString();
        }

        /** The receipt of a query, or null when malformed (counted as such, never as a receipt). */
        static Map<String, Object> decode(String query) {
            Map<String, String> fields = new HashMap<>();
            for (String part : (query.startsWith("?") ? query.substring(1) : query).split("&", -1)) {
                if (part.isEmpty()) continue;
                int eq = part.indexOf('=');
                String name = eq < 0 ? part : part.substring(0, eq);
                String value = decodeComponent(eq < 0 ? "" : part.substring(eq + 1));
                if (value == null) return null;
                fields.putIfAbsent(name, value);
            }
            if (fields.get("e") == null || !EVENTS.contains(fields.get("e"))) return null;
            for (String field : List.of("pkg", "rel", "iid", "eid")) if (fields.get(field) == null || fields.get(field).isEmpty()) return null;
            String kind = fields.get("k");
            if (kind != null && !kind.isEmpty() && !KINDS.contains(kind)) return null;
            Map<String, Object> receipt = new LinkedHashMap<>();
            for (String field : FIELDS) {
                String value = fields.get(field);
                if (value == null || value.isEmpty()) continue;
                if (NUMBER_FIELDS.contains(field)) {
                    if (!WHOLE.matcher(value).matches()) return null;
                    receipt.put(field, Double.valueOf(value));
                } else {
                    receipt.put(field, value);
                }
            }
            return receipt;
        }

        /** An install sends receipts when hash32("receipts:" + iid) mod 10000 < round(sampleRate × 10000): stable per install. */
        static boolean sampled(String iid, Double sampleRate) {
            double rate = sampleRate == null ? 1 : sampleRate;
            if (rate >= 1) return true;
            if (rate <= 0) return false;
            return hash32("receipts:" + iid) % 10_000 < Math.round(rate * 10_000);
        }

        static double roundRate(double rate) {
            return Math.round(rate * 1e6) / 1e6;
        }

        /** The 95 % Wilson interval of failures in trials ([0, 1] without trials), six decimals. */
        static double[] wilson(long failures, long trials) {
            if (trials <= 0) return new double[] {0, 1};
            double n = trials;
            double p = failures / n;
            double z2 = Z95 * Z95;
            double denominator = 1 + z2 / n;
            double centre = (p + z2 / (2 * n)) / denominator;
            double half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
            return new double[] {roundRate(Math.max(0, centre - half)), roundRate(Math.min(1, centre + half))};
        }

        static final String[][] EVENT_FIELDS = {
            {"check", "checks"}, {"download_ok", "downloads"}, {"download_failed", "downloadFailed"}, {"verify_failed", "verifyFailed"}, {"apply_failed", "applyFailed"},
            {"applied", "applied"}, {"launch_ok", "launchOk"}, {"launch_failed", "launchFailed"}, {"rolled_back", "rolledBack"},
        };

        static final class ReleaseTally {
            String pkg;
            String channel;
            String version;
            Map<String, Long> events = new HashMap<>();
            Set<String> installs = new HashSet<>();
            Map<String, Long> from = new HashMap<>();
            Long newestAt;
            TreeMap<Long, long[]> hourly = new TreeMap<>();
        }

        /** The counting rules: once per eid, malformed skipped and counted, installs by iid, launches and failures. */
        static final class Tally {
            final Set<String> seen = new HashSet<>();
            final Map<String, ReleaseTally> releases = new LinkedHashMap<>();
            long malformed;
            long duplicates;

            void add(Map<String, Object> receipt, Long at) {
                if (!seen.add((String) receipt.get("eid"))) {
                    duplicates++;
                    return;
                }
                String channel = (String) receipt.get("ch");
                String key = receipt.get("pkg") + "\n" + (channel == null ? "" : channel) + "\n" + receipt.get("rel");
                ReleaseTally release = releases.computeIfAbsent(key, k -> {
                    ReleaseTally created = new ReleaseTally();
                    created.pkg = (String) receipt.get("pkg");
                    created.channel = channel;
                    created.version = (String) receipt.get("rel");
                    return created;
                });
                String event = (String) receipt.get("e");
                release.events.merge(event, 1L, Long::sum);
                release.installs.add((String) receipt.get("iid"));
                String from = (String) receipt.get("from");
                if (from != null && !from.equals("none")) release.from.merge(from, 1L, Long::sum);
                Long time = at != null ? at : receipt.get("t") == null ? null : (long) (double) (Double) receipt.get("t");
                if (time != null) {
                    if (release.newestAt == null || time > release.newestAt) release.newestAt = time;
                    boolean launch = event.equals("launch_ok") || event.equals("launch_failed") || event.equals("rolled_back");
                    if (launch) {
                        long hour = Math.floorDiv(time, 3_600_000L) * 3_600_000L;
                        long[] bucket = release.hourly.computeIfAbsent(hour, h -> new long[2]);
                        bucket[0]++;
                        if (!event.equals("launch_ok")) bucket[1]++;
                    }
                }
            }

            private static int compareVersions(String a, String b) {
                Version va = Version.parse(a);
                Version vb = Version.parse(b);
                return va != null && vb != null ? va.compareTo(vb) : a.compareTo(b);
            }

            Map<String, Object> report() {
                List<ReleaseTally> sorted = new ArrayList<>(releases.values());
                sorted.sort((a, b) -> {
                    int byPackage = a.pkg.compareTo(b.pkg);
                    if (byPackage != 0) return byPackage;
                    int byChannel = (a.channel == null ? "" : a.channel).compareTo(b.channel == null ? "" : b.channel);
                    if (byChannel != 0) return byChannel;
                    return compareVersions(b.version, a.version);
                });
                List<Object> list = new ArrayList<>();
                for (ReleaseTally release : sorted) {
                    Map<String, Object> health = new LinkedHashMap<>();
                    health.put("package", release.pkg);
                    health.put("channel", release.channel);
                    health.put("version", release.version);
                    String previous = null;
                    long most = -1;
                    for (Map.Entry<String, Long> entry : release.from.entrySet()) {
                        if (entry.getValue() > most || (entry.getValue() == most && compareVersions(entry.getKey(), previous) > 0)) {
                            previous = entry.getKey();
                            most = entry.getValue();
                        }
                    }
                    health.put("previousVersion", previous);
                    health.put("installs", (double) release.installs.size());
                    for (String[] pair : EVENT_FIELDS) health.put(pair[1], (double) release.events.getOrDefault(pair[0], 0L));
                    long failures = release.events.getOrDefault("launch_failed", 0L) + release.events.getOrDefault("rolled_back", 0L);
                    long launches = release.events.getOrDefault("launch_ok", 0L) + failures;
                    double[] interval = wilson(failures, launches);
                    health.put("launches", (double) launches);
                    health.put("failureRate", launches > 0 ? (Object) roundRate(failures / (double) launches) : null);
                    health.put("failureRateLower", interval[0]);
                    health.put("failureRateUpper", interval[1]);
                    health.put("newestAt", release.newestAt == null ? null : ISO_MILLIS.format(Instant.ofEpochMilli(release.newestAt)));
                    List<Object> hourly = new ArrayList<>();
                    for (Map.Entry<Long, long[]> entry : release.hourly.entrySet()) {
                        Map<String, Object> hour = new LinkedHashMap<>();
                        hour.put("hour", ISO_MILLIS.format(Instant.ofEpochMilli(entry.getKey())));
                        hour.put("launches", (double) entry.getValue()[0]);
                        hour.put("failures", (double) entry.getValue()[1]);
                        hourly.add(hour);
                    }
                    health.put("hourly", hourly);
                    list.add(health);
                }
                Map<String, Object> skipped = new LinkedHashMap<>();
                skipped.put("malformed", (double) malformed);
                skipped.put("duplicates", (double) duplicates);
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("releases", list);
                report.put("skipped", skipped);
                return report;
            }
        }

        // ---- what the device keeps: <dir>.update-publish-device.json (the same file as the Node client's)

        static Path statePath(Path dir) {
            return dir.resolveSibling(dir.getFileName() + ".update-publish-device.json");
        }

        static Path previousPath(Path dir) {
            return dir.resolveSibling(dir.getFileName() + ".update-publish-previous");
        }

        static String newId() {
            byte[] random = new byte[8];
            new SecureRandom().nextBytes(random);
            return hex(random);
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> readState(Path dir) {
            try {
                Object parsed = Json.parse(Files.readString(statePath(dir)));
                if (parsed instanceof Map && ((Map<String, Object>) parsed).get("iid") instanceof String
                    && ((Map<String, Object>) parsed).get("queue") instanceof List && ((Map<String, Object>) parsed).get("failed") instanceof List) {
                    return (Map<String, Object>) parsed;
                }
            } catch (Exception missingOrDamaged) {
                // Receipts are best effort: a damaged state starts over.
            }
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("iid", newId());
            state.put("queue", new ArrayList<>());
            state.put("failed", new ArrayList<>());
            return state;
        }

        static void writeState(Path dir, Map<String, Object> state) throws IOException {
            Path path = statePath(dir);
            Path aside = path.resolveSibling(path.getFileName() + ".tmp");
            Files.write(aside, (Json.write(state) + "\n").getBytes(StandardCharsets.UTF_8));
            Installer.move(aside, path);
        }

        /** Where receipts go, from the index's `receipts` (a relative URL against the store's base URL). */
        @SuppressWarnings("unchecked")
        static void configure(Map<String, Object> state, Object settings, String storeBase) {
            if (!(settings instanceof Map) || !(((Map<String, Object>) settings).get("url") instanceof String)) {
                state.remove("receipts");
                return;
            }
            Map<String, Object> receipts = (Map<String, Object>) settings;
            String endpoint;
            try {
                endpoint = URI.create(storeBase).resolve((String) receipts.get("url")).toString();
            } catch (IllegalArgumentException bad) {
                endpoint = null;
            }
            Object rate = receipts.get("sampleRate");
            Map<String, Object> settingsKept = new LinkedHashMap<>();
            settingsKept.put("endpoint", endpoint);
            settingsKept.put("sampled", sampled((String) state.get("iid"), rate instanceof Double ? (Double) rate : null));
            state.put("receipts", settingsKept);
        }

        /** Queues one receipt (a fresh eid), when receipts are asked for and this install is sampled; oldest dropped past 200 / 64 KiB. */
        @SuppressWarnings("unchecked")
        static void report(Map<String, Object> state, Map<String, Object> fields) {
            Object settings = state.get("receipts");
            if (!(settings instanceof Map)) return;
            Map<String, Object> receipts = (Map<String, Object>) settings;
            if (!Boolean.TRUE.equals(receipts.get("sampled")) || !(receipts.get("endpoint") instanceof String)) return;
            String eid = newId();
            Map<String, Object> receipt = new LinkedHashMap<>(fields);
            if (receipt.get("rc") != null) receipt.put("rc", ((String) receipt.get("rc")).replaceAll("[^A-Za-z0-9._-]", "_"));
            receipt.put("iid", state.get("iid"));
            receipt.put("eid", eid);
            receipt.put("t", (double) System.currentTimeMillis());
            String endpoint = (String) receipts.get("endpoint");
            Map<String, Object> queued = new LinkedHashMap<>();
            queued.put("url", endpoint + (endpoint.contains("?") ? "&" : "?") + encode(receipt));
            queued.put("eid", eid);
            List<Object> queue = (List<Object>) state.get("queue");
            queue.add(queued);
            while (queue.size() > MAX_QUEUED) queue.remove(0);
            long bytes = 0;
            for (Object entry : queue) bytes += ((String) ((Map<String, Object>) entry).get("url")).length();
            while (bytes > MAX_QUEUED_BYTES && !queue.isEmpty()) bytes -= ((String) ((Map<String, Object>) queue.remove(0)).get("url")).length();
        }

        /** Sends the queue oldest first, each GET with a short timeout; stops at the first failure (the rest wait). Never throws. */
        @SuppressWarnings("unchecked")
        static void flush(Map<String, Object> state) {
            List<Object> queue = (List<Object>) state.get("queue");
            while (!queue.isEmpty()) {
                String url = (String) ((Map<String, Object>) queue.get(0)).get("url");
                try {
                    HttpURLConnection connection = (HttpURLConnection) new URL(url).openConnection();
                    connection.setConnectTimeout(TIMEOUT_MS);
                    connection.setReadTimeout(TIMEOUT_MS);
                    int status = connection.getResponseCode();
                    connection.disconnect();
                    if (status >= 500) return;
                } catch (Exception unreachable) {
                    return;
                }
                queue.remove(0);
            }
        }

        static void finish(Path dir, Map<String, Object> state) throws IOException {
            flush(state);
            writeState(dir, state);
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> about(Map<String, Object> pending, Device device) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("ch", pending.get("channel"));
            fields.put("pkg", pending.get("package"));
            fields.put("rel", pending.get("version"));
            fields.put("from", pending.get("previousVersion") == null ? "none" : pending.get("previousVersion"));
            fields.put("pf", device.platform);
            fields.put("av", device.appVersion);
            fields.put("iv", pending.get("iv"));
            return fields;
        }

        /** The app loaded the installed release (ok) or not: launch_ok confirms it and drops the previous copy. Null when nothing awaited a confirmation. */
        @SuppressWarnings("unchecked")
        static String markLaunched(Path dir, boolean ok, Device device) throws IOException {
            if (!Files.exists(statePath(dir))) return null;
            Map<String, Object> state = readState(dir);
            Map<String, Object> pending = (Map<String, Object>) state.get("pending");
            if (pending == null) {
                finish(dir, state);
                return null;
            }
            Map<String, Object> fields = about(pending, device);
            fields.put("e", ok ? "launch_ok" : "launch_failed");
            if (!ok) fields.put("rc", "launch");
            report(state, fields);
            if (ok) {
                state.remove("pending");
                Installer.deleteTree(previousPath(dir));
            }
            finish(dir, state);
            return (String) pending.get("version");
        }

        /** The crash-loop guard, at every app start: after maxStarts starts without a confirmation, the previous install comes back. */
        @SuppressWarnings("unchecked")
        static Map<String, Object> rollbackIfUnconfirmed(Path dir, int maxStarts, Device device) throws IOException {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("rolledBack", false);
            if (!Files.exists(statePath(dir))) return result;
            Map<String, Object> state = readState(dir);
            Map<String, Object> pending = (Map<String, Object>) state.get("pending");
            if (pending == null) {
                finish(dir, state);
                return result;
            }
            double starts = (pending.get("starts") instanceof Double ? (Double) pending.get("starts") : 0) + 1;
            pending.put("starts", starts);
            if (starts < maxStarts) {
                finish(dir, state);
                return result;
            }
            Path failedDir = dir.resolveSibling(dir.getFileName() + ".update-publish-failed");
            Installer.deleteTree(failedDir);
            if (Files.exists(dir)) Installer.move(dir, failedDir);
            if (Files.exists(previousPath(dir))) Installer.move(previousPath(dir), dir);
            Installer.deleteTree(failedDir);
            Map<String, Object> fields = about(pending, device);
            fields.put("e", "rolled_back");
            fields.put("rc", "unconfirmed-" + (long) starts);
            report(state, fields);
            List<Object> failed = (List<Object>) state.get("failed");
            if (!failed.contains(pending.get("version"))) failed.add(pending.get("version"));
            state.remove("pending");
            finish(dir, state);
            result.put("rolledBack", true);
            result.put("version", pending.get("version"));
            result.put("restored", pending.get("previousVersion"));
            result.put("starts", starts);
            return result;
        }
    }

    // ------------------------------------------------------------- installer

    /** Which package is tried first and what follows a failure (PROTOCOL.md §10.3): patched, delta, full. */
    static final class InstallOrder {
        private InstallOrder() {}

        static List<String> choices(String kind, boolean patched) {
            if (kind.equals("full")) return List.of("full");
            return patched ? List.of("patched", "delta", "full") : List.of("delta", "full");
        }

        /** The next package after `failed` failed with `failure` (bad-package, damaged-base, other), or null: refuse. */
        static String next(List<String> choices, String failed, String failure) {
            if (failed.equals("full") || failure.equals("other") || !choices.contains("full")) return null;
            if (failure.equals("damaged-base")) return "full";
            int at = choices.indexOf(failed);
            return at + 1 < choices.size() ? choices.get(at + 1) : null;
        }

        /** A package's own checks fail with BadPackage; an installed file that changed with DamagedBase; anything else is no package's fault. */
        static String failureOf(Refusal refusal) {
            if (refusal instanceof DamagedBase) return "damaged-base";
            if (refusal instanceof BadPackage) return "bad-package";
            return "other";
        }
    }

    static final class Installer {
        static final String STATE_FILE = ".update-publish.json";
        static final String STAGING_MARK = ".update-publish-staging-";
        static final String OLD_MARK = ".update-publish-old-";
        static final long MAX_INDEX = 16L * 1024 * 1024;
        static final long MAX_MANIFEST = 64L * 1024 * 1024;
        static final long MAX_WHITELIST_META = 1024 * 1024;
        static final long MAX_WHITELIST_SHARD = 8L * 1024 * 1024;

        private Installer() {}

        /** Brings --into to the release the channel serves this device; on any refusal the folder is left exactly as it was. */
        static Map<String, Object> fetch(Options options) throws Refusal, IOException {
            Path into = Paths.get(options.into).toAbsolutePath().normalize();
            if (options.confirmLaunch != null) {
                String version = Receipts.markLaunched(into, options.confirmLaunch.equals("ok"), options.device);
                Map<String, Object> confirmed = new LinkedHashMap<>();
                confirmed.put("package", options.packageId);
                confirmed.put("launch", options.confirmLaunch);
                confirmed.put("version", version);
                return confirmed;
            }
            // Each run is an app start for the crash-loop guard.
            Map<String, Object> guard = Receipts.rollbackIfUnconfirmed(into, Receipts.DEFAULT_MAX_STARTS, options.device);
            if (Boolean.TRUE.equals(guard.get("rolledBack"))) {
                System.err.println("warning: " + options.packageId + " " + guard.get("version") + " was not confirmed after " + Json.number((Double) guard.get("starts")) + " starts: rolled back to "
                    + (guard.get("restored") == null ? "nothing installed" : guard.get("restored")) + "; it is not installed again");
            }
            Http http = new Http(options.from);
            http.credentials = options.credentials;
            if (options.deadlineSeconds != null) http.documentDeadlineMs = options.deadlineSeconds * 1000;
            List<Signatures.TrustedKey> trusted = loadPublicKeys(options.publicKeys);
            List<byte[]> decryptionKeys = loadDecryptionKeys(options.decryptionKeys);
            Path dir = Paths.get(options.into).toAbsolutePath().normalize();
            recoverInterruptedSwap(dir);
            Map<String, Object> state = readState(dir, options.packageId);
            Object rememberedRoot = state == null ? null : state.get("root");
            Object newestRoot = null;
            if (options.root != null) {
                // The shipped root, or the newer one remembered (never an older one), followed along the store's chain.
                Object shipped;
                try {
                    shipped = Json.parse(new String(Files.readAllBytes(Paths.get(options.root)), StandardCharsets.UTF_8));
                } catch (IOException | RuntimeException unreadable) {
                    throw Refusal.input("--root " + options.root + " is not a valid root: " + (unreadable instanceof IOException ? "cannot be read" : "not JSON"));
                }
                Map<String, Object> start = Roots.trusted(shipped, "the root given (--root)", 2);
                Object startDocument = shipped;
                if (rememberedRoot != null) {
                    Map<String, Object> known = Roots.trusted(rememberedRoot, "the root remembered in " + STATE_FILE, 1);
                    if (Json.integer(known, "version", "root") > Json.integer(start, "version", "root")) {
                        start = known;
                        startDocument = rememberedRoot;
                    }
                }
                final Http source = http;
                Map<String, Object> newest = Roots.follow(start, version -> {
                    try {
                        byte[] body = source.readDocument(Roots.key(version), Roots.MAX_BYTES);
                        return body == null ? null : parseJson(body, Roots.key(version));
                    } catch (Refusal refused) {
                        return refused;
                    }
                }, options.device.now);
                newestRoot = newest == start ? startDocument : newest;
                trusted = Roots.role(newest, "signing");
            }
            Trust remembered = state == null ? null : Trust.from(state.get("trust"));
            // A trust-only marker (version null) remembers the channel with nothing installed.
            String installed = state == null ? null : (String) state.get("version");

            String indexKey = "channels/" + options.channel + "/index.json";
            byte[] indexBody = http.readDocument(indexKey, MAX_INDEX);
            if (indexBody == null) throw Refusal.source("channel '" + options.channel + "' has no index at " + http.location() + " (" + indexKey + "); check the channel name and the store address");
            Object indexDocument = parseJson(indexBody, indexKey);
            boolean signed = checkSignature(indexKey, indexDocument, trusted);
            Map<String, Object> index = validateIndex(indexDocument, indexKey, options.channel);
            Trust.assertFresh(index, options.device.now, signed, remembered);
            Trust trust = Trust.remember(index, signed, remembered);

            options.device.installed = installed;
            WhitelistLookup whitelists = options.device.deviceId == null ? null : readWhitelists(http, index, options.packageId, options.device.deviceId, trusted);
            Map<String, Object> resolution = Resolver.resolve(index, options.device, whitelists);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("package", options.packageId);
            result.put("channel", options.channel);
            result.put("updated", false);
            result.put("version", installed);
            result.put("previousVersion", installed);
            result.put("kind", null);
            result.put("bytesDownloaded", 0.0);
            result.put("mandatory", resolution.get("mandatory"));
            result.put("reason", resolution.get("reason"));
            // Receipts and the crash-loop guard, when the publisher asks for them (index `receipts`).
            Map<String, Object> device = index.get("receipts") == null ? null : Receipts.readState(dir);
            if (device != null) Receipts.configure(device, index.get("receipts"), http.location());
            Map<String, Object> about = new LinkedHashMap<>();
            about.put("ch", options.channel);
            about.put("pkg", options.packageId);
            about.put("from", installed == null ? "none" : installed);
            about.put("pf", options.device.platform);
            about.put("av", options.device.appVersion);
            about.put("iv", index.get("version"));
            if (device != null && Boolean.TRUE.equals(resolution.get("update")) && ((List<?>) device.get("failed")).contains(resolution.get("version"))) {
                result.put("reason", "failed-on-device");
                Receipts.finish(dir, device);
                return result;
            }
            if (!Boolean.TRUE.equals(resolution.get("update"))) {
                if (device != null) Receipts.finish(dir, device);
                // Nothing to install, but what was accepted of the channel moved on: remember it (a trust-only marker when
                // nothing is installed), or a mirror could turn it back; the newest root accepted too.
                Map<String, Object> marker = markerAfterCheck(state, options.packageId, options.channel, trust);
                if (marker == null && state != null && newestRoot != null && !Json.write(newestRoot).equals(Json.write(rememberedRoot))) marker = state;
                if (marker != null) {
                    if (newestRoot != null) marker.put("root", newestRoot);
                    writeStateAside(dir, marker);
                }
                return result;
            }

            String version = (String) resolution.get("version");
            about.put("rel", version);
            if (device != null) Receipts.report(device, withEvent(about, "check"));
            try {
                Map<String, Object> done = install(options, http, index, resolution, version, dir, state, installed, trust, decryptionKeys, result, device, newestRoot != null ? newestRoot : rememberedRoot);
                if (device != null) {
                    Map<String, Object> applied = withEvent(about, "applied");
                    applied.put("k", done.get("kind"));
                    applied.put("sz", done.get("bytesDownloaded"));
                    Receipts.report(device, applied);
                    Receipts.finish(dir, device);
                }
                return done;
            } catch (Refusal | IOException failed) {
                if (device != null) {
                    String event = failed instanceof BadPackage ? "verify_failed" : failed instanceof Refusal ? "download_failed" : "apply_failed";
                    Map<String, Object> fields = withEvent(about, event);
                    fields.put("rc", failed.getClass().getSimpleName());
                    Receipts.report(device, fields);
                    try {
                        Receipts.finish(dir, device);
                    } catch (IOException ignored) {
                        // Receipts never change what the fetch reports.
                    }
                }
                throw failed;
            }
        }

        private static Map<String, Object> withEvent(Map<String, Object> about, String event) {
            Map<String, Object> fields = new LinkedHashMap<>(about);
            fields.put("e", event);
            return fields;
        }

        private static Map<String, Object> install(Options options, Http http, Map<String, Object> index, Map<String, Object> resolution, String version, Path dir,
                                                   Map<String, Object> state, String installed, Trust trust, List<byte[]> decryptionKeys, Map<String, Object> result,
                                                   Map<String, Object> device, Object rootToRemember) throws Refusal, IOException {
            Map<String, Object> release = findRelease(index, options.packageId, version);
            Map<String, Object> manifest = readManifest(http, options.packageId, release);
            List<ManifestFile> files = ManifestFile.listOf(manifest.get("files"));
            Map<String, Object> encryption = manifest.get("encryption") == null ? null : Json.object(manifest.get("encryption"), "manifest.encryption");
            assertDecryptable(manifest, encryption, decryptionKeys);
            Map<String, Object> delta = null;
            if ("delta".equals(resolution.get("kind"))) {
                for (Object candidate : Json.list(manifest.get("deltas"), "manifest.deltas")) {
                    Object from = Json.object(candidate, "delta").get("from");
                    if (from instanceof String && Resolver.same(installed, (String) from)) delta = Json.object(candidate, "delta");
                }
            }
            Map<String, Object> full = Json.object(manifest.get("full"), "manifest.full");
            assertFreeSpace(dir, files, delta != null ? delta : full, encryption != null);

            Path staging = Files.createTempDirectory(dir.getParent() == null ? dir : createParents(dir), dir.getFileName() + STAGING_MARK);
            try {
                Path tree = staging.resolve("tree");
                long[] downloaded = {0};
                // PROTOCOL.md §10.3: this client applies no patches, so the delta, then the full package.
                List<String> choices = InstallOrder.choices(delta != null ? "delta" : "full", false);
                String kind = choices.get(0);
                while (true) {
                    try {
                        if (kind.equals("delta")) install(http, delta, files, encryption, decryptionKeys, staging.resolve("delta"), dir, tree, downloaded);
                        else install(http, full, files, encryption, decryptionKeys, staging.resolve("full"), null, tree, downloaded);
                        break;
                    } catch (Refusal failed) {
                        String next = InstallOrder.next(choices, kind, InstallOrder.failureOf(failed));
                        if (next == null) throw failed;
                        deleteTree(tree);
                        kind = next;
                    }
                }
                Map<String, Object> newState = new LinkedHashMap<>();
                newState.put("package", options.packageId);
                newState.put("version", version);
                newState.put("channel", options.channel);
                newState.put("installedAt", Instant.now().toString());
                newState.put("trust", trust.toJson());
                // The newest root accepted (else the one remembered): a device never goes back to an older one.
                if (rootToRemember != null) newState.put("root", rootToRemember);
                Files.write(tree.resolve(STATE_FILE), (Json.write(newState) + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW);
                // Guarded: the previous copy stays until the app confirms the new one; over an unconfirmed install the confirmed copy stays.
                @SuppressWarnings("unchecked")
                Map<String, Object> unconfirmed = device == null ? null : (Map<String, Object>) device.get("pending");
                swapInto(dir, tree, device != null && unconfirmed == null ? Receipts.previousPath(dir) : null);
                if (device != null) {
                    Map<String, Object> pending = new LinkedHashMap<>();
                    pending.put("package", options.packageId);
                    pending.put("channel", options.channel);
                    pending.put("version", version);
                    pending.put("previousVersion", unconfirmed != null ? unconfirmed.get("previousVersion") : installed);
                    pending.put("starts", 0.0);
                    pending.put("iv", index.get("version"));
                    device.put("pending", pending);
                }
                result.put("updated", true);
                result.put("version", version);
                result.put("kind", kind);
                result.put("bytesDownloaded", (double) downloaded[0]);
                return result;
            } finally {
                deleteTree(staging);
            }
        }

        private static Path createParents(Path dir) throws IOException {
            Files.createDirectories(dir.getParent());
            return dir.getParent();
        }

        /** Downloads one package object (checked against size and SHA-256), opens it when encrypted, and builds the tree. */
        private static void install(Http http, Map<String, Object> object, List<ManifestFile> files, Map<String, Object> encryption, List<byte[]> keys,
                                    Path work, Path base, Path tree, long[] downloaded) throws Refusal, IOException {
            String key = Json.string(object, "key", "object");
            long size = Json.integer(object, "size", "object");
            String sha256 = Json.string(object, "sha256", "object");
            Path download = work.resolveSibling(work.getFileName() + ".download");
            long bytes = http.download(key, download, size);
            if (bytes != size) throw new BadPackage(key + ": is " + bytes + " bytes but the manifest lists " + size + ": it was truncated or replaced");
            String actual = hex(sha256File(download));
            if (!actual.equals(sha256)) throw new BadPackage(key + ": SHA-256 is " + actual + " but the manifest lists " + sha256 + ": the object was altered or damaged");
            downloaded[0] += bytes;
            Path zip = download;
            if (encryption != null) {
                zip = work.resolveSibling(work.getFileName() + ".zip");
                try (InputStream in = new BufferedInputStream(Files.newInputStream(download));
                     OutputStream out = Files.newOutputStream(zip, StandardOpenOption.CREATE_NEW)) {
                    Decryptor.decrypt(in, out, keys, (String) encryption.get("keyId"));
                }
                Files.delete(download);
            }
            buildTree(files, zip, key, base, tree);
        }

        private static byte[] sha256File(Path file) throws IOException {
            MessageDigest digest = sha256Digest();
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = Files.newInputStream(file)) {
                int n;
                while ((n = in.read(buffer)) > 0) digest.update(buffer, 0, n);
            }
            return digest.digest();
        }

        static List<Signatures.TrustedKey> loadPublicKeys(List<String> files) throws Refusal {
            List<Signatures.TrustedKey> keys = new ArrayList<>();
            for (String file : files) {
                String pem;
                try {
                    pem = Files.readString(Paths.get(file));
                } catch (IOException unreadable) {
                    throw Refusal.input("--public-key: cannot read " + file + "; give the signing-public.pem written by `update-publish keys generate`");
                }
                if (pem.matches("(?s).*-----BEGIN [A-Z ]*PRIVATE KEY-----.*")) throw Refusal.input("--public-key: " + file + " holds a private key; give signing-public.pem and keep the private key secret");
                try {
                    keys.add(Signatures.fromPem(pem));
                } catch (GeneralSecurityException | IllegalArgumentException bad) {
                    throw Refusal.input("--public-key: " + file + " is not an Ed25519 public key PEM (" + bad.getMessage() + "); use signing-public.pem");
                }
            }
            return keys;
        }

        private static List<byte[]> loadDecryptionKeys(List<String> specs) throws Refusal {
            List<byte[]> keys = new ArrayList<>();
            for (String spec : specs) {
                if (!spec.startsWith("env:") || !spec.substring(4).matches("[A-Za-z_][A-Za-z0-9_]*")) throw Refusal.input("--decryption-key '" + spec + "' must be env:NAME naming a variable that holds the key");
                String name = spec.substring(4);
                String value = System.getenv(name);
                if (value == null || value.isBlank()) throw Refusal.input("--decryption-key: environment variable " + name + " is not set; export it with the 32-byte key (base64 or hex)");
                keys.add(Decryptor.decodeKey(value, "environment variable " + name));
            }
            return keys;
        }

        /** UTF-8 that refuses malformed bytes (new String replaces them with U+FFFD, which another client would not read alike). */
        static String strictUtf8(byte[] body) throws java.nio.charset.CharacterCodingException {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                .decode(java.nio.ByteBuffer.wrap(body))
                .toString();
        }

        static Object parseJson(byte[] body, String key) throws BadPackage {
            try {
                return Json.parse(strictUtf8(body));
            } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException invalid) {
                throw new BadPackage(key + ": is not valid JSON: it was altered or damaged");
            }
        }

        /** With trusted keys a valid signature by one of them is required; returns whether the document was verified. */
        static boolean checkSignature(String key, Object document, List<Signatures.TrustedKey> trusted) throws BadPackage {
            if (trusted.isEmpty()) return false;
            Map<String, Object> check = Signatures.check(document, trusted, trusted instanceof TrustSet ? ((TrustSet) trusted).threshold : 1);
            if (Boolean.TRUE.equals(check.get("ok"))) return true;
            throw new BadPackage(key + ": " + Signatures.describe((String) check.get("reason")));
        }

        /** The fields a device relies on, checked before anything uses them. */
        private static Map<String, Object> validateIndex(Object document, String key, String channel) throws BadPackage {
            Map<String, Object> index = Json.object(document, key);
            if (index.get("schemaVersion") instanceof Double && (Double) index.get("schemaVersion") > 1) {
                throw new BadPackage(key + ": has schema version " + Json.write(index.get("schemaVersion")) + "; this client reads version 1, update it");
            }
            if (!channel.equals(index.get("channel"))) throw new BadPackage(key + ": names channel '" + index.get("channel") + "', not '" + channel + "': it was copied from another channel; restore it from its history or your backup");
            if (index.get("version") != null) Json.integer(index, "version", key);
            if (index.get("expires") != null && parseTime(Json.string(index, "expires", key)) == null) throw new BadPackage(key + ": expires is not an ISO-8601 time");
            for (String name : new String[] {"switches", "appReleases"}) ChannelDocuments.boundVersion(index, name);
            for (Map.Entry<String, Object> entry : Json.object(index.get("packages"), key + ".packages").entrySet()) {
                for (Object item : Json.list(Json.object(entry.getValue(), "package").get("releases"), key + " releases")) {
                    Map<String, Object> release = Json.object(item, "release");
                    if (!ChannelDocuments.documentVersion(Json.string(release, "version", "release"))) throw new BadPackage(key + ": release version " + release.get("version") + " is not SemVer 2.0.0 without build metadata");
                    Map<String, Object> rules = Json.object(release.get("rules"), "rules");
                    Json.number(rules, "rollout", "rules");
                    if (!(rules.get("mandatory") instanceof Boolean)) throw new BadPackage(key + ": rules.mandatory is not a boolean");
                    for (String time : new String[] {"startsAt", "endsAt"}) {
                        if (rules.get(time) != null && parseTime(Json.string(rules, time, "rules")) == null) throw new BadPackage(key + ": rules." + time + " is not an ISO-8601 time");
                    }
                    if (rules.get("appVersion") != null) {
                        try {
                            new Semver(Json.string(rules, "appVersion", "rules"));
                        } catch (IllegalArgumentException invalid) {
                            throw new BadPackage(key + ": rules.appVersion is not a semver range");
                        }
                    }
                }
            }
            return index;
        }

        private static Map<String, Object> findRelease(Map<String, Object> index, String packageId, String version) throws BadPackage {
            Map<String, Object> entry = Json.object(Json.object(index.get("packages"), "packages").get(packageId), "package");
            for (Object release : Json.list(entry.get("releases"), "releases")) {
                if (version.equals(Json.object(release, "release").get("version"))) return Json.object(release, "release");
            }
            throw new BadPackage("release " + version + " vanished from the index");
        }

        /** The manifest is trusted through the signed index: its SHA-256 (and size) must be the ones the release entry lists. */
        private static Map<String, Object> readManifest(Http http, String packageId, Map<String, Object> release) throws Refusal {
            Map<String, Object> entry = Json.object(release.get("manifest"), "release.manifest");
            String key = Json.string(entry, "key", "release.manifest");
            long limit = entry.get("size") == null ? MAX_MANIFEST : Json.integer(entry, "size", "release.manifest");
            byte[] body = http.readDocument(key, limit);
            if (body == null) throw new BadPackage(key + ": is missing from the store");
            String actual = hex(sha256(body));
            String listed = Json.string(entry, "sha256", "release.manifest");
            if (!actual.equals(listed)) throw new BadPackage(key + ": SHA-256 is " + actual + " but the channel index lists " + listed + ": the manifest was altered or replaced");
            return checkManifest(Json.object(parseJson(body, key), key), key, packageId, release);
        }

        /**
         * The manifest as the release serves it: its id, version and objects the index's; a delta the
         * index lists but the manifest does not (built when the release was promoted to this channel,
         * PROTOCOL.md §3.1) is accepted when it carries its own `removed` and no `patched`.
         */
        static Map<String, Object> checkManifest(Map<String, Object> manifest, String key, String packageId, Map<String, Object> release) throws BadPackage {
            String version = (String) release.get("version");
            if (!packageId.equals(manifest.get("id")) || !version.equals(manifest.get("version"))) {
                throw new BadPackage(key + ": describes " + manifest.get("id") + "@" + manifest.get("version") + ", not " + packageId + "@" + version);
            }
            for (ManifestFile file : ManifestFile.listOf(manifest.get("files"))) {
                if (file.path.equals(STATE_FILE)) throw new BadPackage(key + ": lists a file named " + STATE_FILE + ", which the installer reserves");
            }
            assertSameObject(key, "full package", Json.object(manifest.get("full"), "manifest.full"), Json.object(release.get("full"), "release.full"));
            for (Object item : Json.list(release.get("deltas"), "release.deltas")) {
                Map<String, Object> delta = Json.object(item, "delta");
                Map<String, Object> listedDelta = null;
                for (Object candidate : Json.list(manifest.get("deltas"), "manifest.deltas")) {
                    if (Json.object(candidate, "delta").get("from") != null && Json.object(candidate, "delta").get("from").equals(delta.get("from"))) listedDelta = Json.object(candidate, "delta");
                }
                if (listedDelta == null) {
                    // The signed index vouches for it; it must say what to remove itself, and is never patched.
                    if (!(delta.get("removed") instanceof List) || delta.get("patched") != null) throw new BadPackage(key + ": does not list the delta from " + delta.get("from") + " that the channel index lists");
                    Map<String, Object> added = new LinkedHashMap<>();
                    for (String field : new String[] {"from", "key", "size", "sha256", "removed"}) added.put(field, delta.get(field));
                    Map<String, Object> served = new LinkedHashMap<>(manifest);
                    List<Object> deltas = new ArrayList<>(Json.list(manifest.get("deltas"), "manifest.deltas"));
                    deltas.add(added);
                    served.put("deltas", deltas);
                    manifest = served;
                    continue;
                }
                assertSameObject(key, "delta from " + delta.get("from"), listedDelta, delta);
            }
            return manifest;
        }

        private static void assertSameObject(String key, String what, Map<String, Object> inManifest, Map<String, Object> inIndex) throws BadPackage {
            for (String field : new String[] {"key", "size", "sha256"}) {
                Object a = inManifest.get(field);
                Object b = inIndex.get(field);
                if (a == null || !a.equals(b)) throw new BadPackage(key + ": lists the " + what + " with another " + field + " than the channel index");
            }
        }

        private static void assertDecryptable(Map<String, Object> manifest, Map<String, Object> encryption, List<byte[]> keys) throws Refusal {
            if (encryption == null) return;
            String label = manifest.get("id") + "@" + manifest.get("version");
            if (!"aes-256-gcm-chunked".equals(encryption.get("algorithm"))) throw Refusal.source(label + " is encrypted with '" + encryption.get("algorithm") + "', which this client cannot read");
            String keyId = Json.string(encryption, "keyId", "manifest.encryption");
            if (keys.isEmpty()) throw Refusal.input(label + " is encrypted (key id " + keyId + ") and no decryption key was given; pass the key with id " + keyId);
            for (byte[] key : keys) if (Decryptor.keyId(key).equals(keyId)) return;
            throw Refusal.source(label + " is encrypted with key id " + keyId + ", but no decryption key given has that id; pass the key with id " + keyId);
        }

        /** Refuses before any download when the disk cannot hold the object, its decrypted copy and the tree. */
        private static void assertFreeSpace(Path dir, List<ManifestFile> files, Map<String, Object> object, boolean encrypted) throws Refusal, IOException {
            long needed = Json.integer(object, "size", "object") * (encrypted ? 2 : 1);
            for (ManifestFile file : files) needed += file.size;
            Path existing = dir;
            while (existing != null && !Files.exists(existing)) existing = existing.getParent();
            if (existing == null) return;
            FileStore store = Files.getFileStore(existing);
            if (needed > store.getUsableSpace()) {
                throw Refusal.source("the package needs " + needed + " bytes in " + existing + " (package and files), but only " + store.getUsableSpace() + " are free; free space or install elsewhere");
            }
        }

        /** Which of the whitelists the package's releases name hold this device: each list's meta, then the one shard its id hashes to. */
        private static WhitelistLookup readWhitelists(Http http, Map<String, Object> index, String packageId, String deviceId, List<Signatures.TrustedKey> trusted) throws Refusal {
            Set<String> names = new LinkedHashSet<>();
            Object entry = Json.object(index.get("packages"), "packages").get(packageId);
            if (entry != null) {
                for (Object release : Json.list(Json.object(entry, "package").get("releases"), "releases")) {
                    Object lists = Json.object(Json.object(release, "release").get("rules"), "rules").get("whitelist");
                    if (lists != null) for (Object name : Json.list(lists, "rules.whitelist")) if (name instanceof String) names.add((String) name);
                }
            }
            // The upload the index binds: exactly its shards are read, so an older list put back is never used.
            Map<String, Object> bindings = index.get("whitelists") == null ? Map.of() : Json.object(index.get("whitelists"), "whitelists");
            return readWhitelists(http, names, deviceId, trusted, bindings);
        }

        /** Which of these whitelists hold the device: each list's meta, then the one shard its id hashes to (§7). */
        static WhitelistLookup readWhitelists(Http http, Set<String> names, String deviceId, List<Signatures.TrustedKey> trusted, Map<String, Object> bindings) throws Refusal {
            Set<String> member = new HashSet<>();
            for (String name : names) {
                Map<String, Object> meta = bindings.containsKey(name) ? boundWhitelist(name, bindings.get(name)) : readWhitelistMeta(http, name, trusted);
                if (meta == null) continue;
                String metaKey = "whitelists/" + name + "/meta.json";
                long shards = Json.integer(meta, "shards", metaKey);
                Long version = meta.get("version") == null ? null : Json.integer(meta, "version", metaKey);
                int shard = whitelistShard(deviceId, shards);
                String shardKey = whitelistShardKey(name, shard, version);
                byte[] shardBody = http.readDocument(shardKey, MAX_WHITELIST_SHARD);
                // A listed list whose shard is gone holds nobody (an upload replaced it meanwhile).
                if (shardBody == null) continue;
                Object shardDocument = parseJson(shardBody, shardKey);
                checkSignature(shardKey, shardDocument, trusted);
                if (shardHas(validateWhitelistShard(shardDocument, shardKey, meta, shard), deviceId)) member.add(name);
            }
            return (list, id) -> id.equals(deviceId) && member.contains(list);
        }

        private static Map<String, Object> readWhitelistMeta(Http http, String name, List<Signatures.TrustedKey> trusted) throws Refusal {
            String metaKey = "whitelists/" + name + "/meta.json";
            byte[] metaBody = http.readDocument(metaKey, MAX_WHITELIST_META);
            if (metaBody == null) return null;
            Object metaDocument = parseJson(metaBody, metaKey);
            checkSignature(metaKey, metaDocument, trusted);
            return validateWhitelistMeta(metaDocument, metaKey, name);
        }

        // ----------------------------------------------------- install state

        /** What dir holds (PROTOCOL.md §10.2): null when missing or empty (nothing installed, nothing remembered). */
        private static Map<String, Object> readState(Path dir, String packageId) throws Refusal, IOException {
            if (!Files.exists(dir)) return null;
            if (!Files.isDirectory(dir)) throw Refusal.input(dir + " is not a folder; choose a folder to install into");
            Path file = dir.resolve(STATE_FILE);
            String marker = null;
            if (Files.exists(file)) {
                try {
                    marker = Files.readString(file);
                } catch (java.nio.charset.CharacterCodingException damaged) {
                    marker = "";
                }
            }
            List<String> others = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path entry : entries) if (!entry.getFileName().toString().equals(STATE_FILE)) others.add(entry.getFileName().toString());
            }
            return interpretFolder(marker, others, packageId, dir.toString());
        }

        /**
         * What an install folder holds, from its marker's text (null: none) and the names of its other entries.
         * Refused (input): other content without a marker, a marker that is not one, another package's folder,
         * a trust-only marker (version null) beside files.
         */
        static Map<String, Object> interpretFolder(String marker, List<String> otherEntries, String packageId, String dir) throws Refusal {
            if (marker == null) {
                if (otherEntries.isEmpty()) return null;
                throw Refusal.input(dir + " is not empty and has no " + STATE_FILE + ", so it was not installed by update-publish; choose an empty or new folder");
            }
            String damaged = dir + "/" + STATE_FILE + " is damaged; delete " + dir + " to install again from scratch";
            Object parsed;
            try {
                parsed = Json.parse(marker);
            } catch (IllegalArgumentException notJson) {
                throw Refusal.input(damaged);
            }
            if (!(parsed instanceof Map)) throw Refusal.input(damaged);
            @SuppressWarnings("unchecked")
            Map<String, Object> state = new LinkedHashMap<>((Map<String, Object>) parsed);
            Object version = state.get("version");
            boolean trustOnly = state.containsKey("version") && version == null;
            if (!(state.get("package") instanceof String) || !(trustOnly || (version instanceof String && Version.strict((String) version) != null))) throw Refusal.input(damaged);
            if (!packageId.equals(state.get("package"))) throw Refusal.input(dir + " holds package '" + state.get("package") + "', not '" + packageId + "'; install each package into its own folder");
            if (trustOnly && !otherEntries.isEmpty()) throw Refusal.input(damaged);
            Trust trust = Trust.from(state.get("trust"));
            if (trust == null) state.remove("trust");
            else state.put("trust", trust.toJson());
            return state;
        }

        /** After a check that installs nothing: the marker to write so the channel's trust is remembered, or null when it already says so. */
        static Map<String, Object> markerAfterCheck(Map<String, Object> state, String packageId, String channel, Trust trust) {
            if (state == null) {
                Map<String, Object> marker = new LinkedHashMap<>();
                marker.put("package", packageId);
                marker.put("version", null);
                marker.put("channel", channel);
                marker.put("trust", trust.toJson());
                return marker;
            }
            if (trust.sameAs(Trust.from(state.get("trust")))) return null;
            Map<String, Object> marker = new LinkedHashMap<>(state);
            marker.put("trust", trust.toJson());
            return marker;
        }

        /**
         * Replaces the marker (write aside, rename): the channel's trust moved on, the content did not. Aside is beside
         * the folder under the staging mark, so a crash leaves nothing in it and the next run removes the leftover.
         */
        private static void writeStateAside(Path dir, Map<String, Object> state) throws IOException {
            Files.createDirectories(dir);
            Path aside = dir.resolveSibling(dir.getFileName() + STAGING_MARK + "marker-" + ProcessHandle.current().pid());
            Files.write(aside, (Json.write(state) + "\n").getBytes(StandardCharsets.UTF_8));
            move(aside, dir.resolve(STATE_FILE));
        }

        // -------------------------------------------------------------- swap

        /** Puts tree where dir is with two renames; the previous content is removed once the new one is in place. */
        private static void swapInto(Path dir, Path tree, Path keepPreviousAt) throws IOException {
            Path previous = null;
            if (Files.exists(dir)) {
                byte[] random = new byte[4];
                new SecureRandom().nextBytes(random);
                previous = dir.resolveSibling(dir.getFileName() + OLD_MARK + hex(random));
                move(dir, previous);
            }
            // A crash here leaves no dir and the previous tree beside it: recoverInterruptedSwap puts it back.
            try {
                move(tree, dir);
            } catch (IOException failed) {
                if (previous != null) move(previous, dir);
                throw failed;
            }
            if (previous != null && keepPreviousAt != null) {
                deleteTree(keepPreviousAt);
                move(previous, keepPreviousAt);
            } else if (previous != null) {
                deleteTree(previous);
            }
        }

        static void move(Path from, Path to) throws IOException {
            try {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException notAtomic) {
                Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
        }

        /** Undoes what a crashed run left beside dir (either client's: they share the marks). */
        private static void recoverInterruptedSwap(Path dir) throws IOException {
            Path parent = dir.getParent();
            if (parent == null || !Files.isDirectory(parent)) return;
            String name = dir.getFileName().toString();
            List<Path> olds = new ArrayList<>();
            List<Path> leftovers = new ArrayList<>();
            try (DirectoryStream<Path> siblings = Files.newDirectoryStream(parent)) {
                for (Path sibling : siblings) {
                    String siblingName = sibling.getFileName().toString();
                    if (siblingName.startsWith(name + OLD_MARK)) olds.add(sibling);
                    else if (siblingName.startsWith(name + STAGING_MARK)) leftovers.add(sibling);
                }
            }
            if (!olds.isEmpty() && !Files.exists(dir)) move(olds.remove(olds.size() - 1), dir);
            for (Path path : olds) deleteTree(path);
            for (Path path : leftovers) deleteTree(path);
        }

        static void deleteTree(Path path) throws IOException {
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) return;
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
                    for (Path entry : entries) deleteTree(entry);
                }
            }
            try {
                Files.delete(path);
            } catch (NoSuchFileException gone) {
                // already removed
            }
        }
    }

    // ------------------------------------------------------------ whitelists

    static final long MAX_WHITELIST_SHARDS = 1_000_000;

    static Map<String, Object> validateWhitelistMeta(Object document, String key, String name) throws BadPackage {
        if (!(document instanceof Map)) throw new BadPackage(key + ": is malformed (no shard count)");
        Map<String, Object> meta = Json.object(document, key);
        // 1 to 1,000,000 shards (PROTOCOL.md §7): 2,000 ids each, two billion ids at most.
        if (!(meta.get("shards") instanceof Double) || Json.integer(meta, "shards", key) <= 0 || Json.integer(meta, "shards", key) > MAX_WHITELIST_SHARDS) {
            throw new BadPackage(key + ": is malformed (no shard count from 1 to " + MAX_WHITELIST_SHARDS + ")");
        }
        if (!name.equals(meta.get("name"))) throw new BadPackage(key + ": names list '" + meta.get("name") + "', not '" + name + "': it was copied from another list");
        if (meta.get("version") != null && Json.integer(meta, "version", key) <= 0) throw new BadPackage(key + ": has a malformed version");
        return meta;
    }

    /** A whitelist as the channel index binds it ({ version, shards }): the meta its shard is checked against. */
    static Map<String, Object> boundWhitelist(String name, Object binding) throws BadPackage {
        if (!(binding instanceof Map)) throw new BadPackage("channel index: whitelists." + name + " is not { version, shards }");
        Map<String, Object> bound = Json.object(binding, "whitelists." + name);
        if (!(bound.get("version") instanceof Double) || Json.integer(bound, "version", "whitelists." + name) <= 0
            || !(bound.get("shards") instanceof Double) || Json.integer(bound, "shards", "whitelists." + name) <= 0) {
            throw new BadPackage("channel index: whitelists." + name + " is not { version, shards }");
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("name", name);
        meta.put("version", bound.get("version"));
        meta.put("shards", bound.get("shards"));
        return meta;
    }

    /** The ids of a shard, checked against what the meta says it must be: this list, this upload, this shard number. */
    static List<String> validateWhitelistShard(Object document, String key, Map<String, Object> meta, int shard) throws BadPackage {
        List<String> ids = new ArrayList<>();
        Object idList;
        if (meta.get("version") == null) {
            // Uploaded before shards were bound: a bare array of ids.
            idList = document;
        } else {
            if (!(document instanceof Map)) throw new BadPackage(key + ": is not a whitelist shard (list, version, shard, ids)");
            Map<String, Object> found = Json.object(document, key);
            idList = found.get("ids");
            boolean bound = meta.get("name").equals(found.get("list")) && meta.get("version").equals(found.get("version")) && Double.valueOf(shard).equals(found.get("shard"));
            if (!bound) throw new BadPackage(key + ": is not shard " + shard + " of list '" + meta.get("name") + "' upload " + Json.write(meta.get("version")) + ": a shard served in place of another");
        }
        if (!(idList instanceof List)) throw new BadPackage(key + ": is not a list of ids");
        for (Object id : (List<?>) idList) {
            if (!(id instanceof String)) throw new BadPackage(key + ": is not a list of ids");
            ids.add((String) id);
        }
        return ids;
    }

    /** Binary search over ids sorted by UTF-16 code units (String.compareTo compares exactly those). */
    static boolean shardHas(List<String> sortedIds, String id) {
        int low = 0;
        int high = sortedIds.size() - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            int c = sortedIds.get(middle).compareTo(id);
            if (c == 0) return true;
            if (c < 0) low = middle + 1;
            else high = middle - 1;
        }
        return false;
    }

    // ----------------------------------------------------------- conformance

    /** Runs conformance vector files (test/conformance/*.json): one JSON line per case, exit 1 when any case fails. */
    static final class Conformance {
        private Conformance() {}

        static int run(List<String> files, PrintStream out, PrintStream err) throws IOException {
            int failed = 0;
            int total = 0;
            for (String name : files) {
                Path path = Paths.get(name);
                Map<String, Object> file = asMap(Json.parse(Files.readString(path)));
                for (Object item : (List<?>) file.get("cases")) {
                    Map<String, Object> vector = asMap(item);
                    Object actual;
                    try {
                        actual = evaluate(file, vector, path.toAbsolutePath().getParent());
                    } catch (Exception error) {
                        actual = Map.of("exception", String.valueOf(error));
                    }
                    boolean pass = Json.canonical(actual).equals(Json.canonical(vector.get("expected")));
                    total++;
                    if (!pass) failed++;
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("file", path.getFileName().toString());
                    line.put("case", vector.get("name"));
                    line.put("pass", pass);
                    line.put("actual", actual);
                    out.println(Json.write(line));
                }
            }
            err.println((total - failed) + " of " + total + " conformance cases passed");
            return failed == 0 ? 0 : 1;
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> asMap(Object value) {
            return (Map<String, Object>) value;
        }

        @SuppressWarnings("unchecked")
        private static List<String> strings(Object value) {
            return (List<String>) value;
        }

        static Object evaluate(Map<String, Object> file, Map<String, Object> input, Path root) throws Exception {
            String check = (String) input.get("check");
            Map<String, Object> result = new LinkedHashMap<>();
            switch (check) {
                case "hash32":
                    result.put("hash32", (double) hash32((String) input.get("text")));
                    return result;
                case "rollout": {
                    Map<String, Object> rules = asMap(input.get("rules"));
                    String packageId = (String) input.get("packageId");
                    String version = (String) input.get("version");
                    String deviceId = (String) input.get("deviceId");
                    int bucket = rolloutBucket(deviceId, packageId, version);
                    long threshold = rolloutThreshold(rules);
                    result.put("hashInput", packageId + "@" + version + ":" + deviceId);
                    result.put("bucket", (double) bucket);
                    result.put("threshold", (double) threshold);
                    result.put("inside", bucket < threshold);
                    return result;
                }
                case "whitelist-shard": {
                    String id = (String) input.get("id");
                    int shard = whitelistShard(id, (long) (double) (Double) input.get("shards"));
                    Long version = input.get("version") == null ? null : (long) (double) (Double) input.get("version");
                    result.put("hashInput", "whitelist:" + id);
                    result.put("shard", (double) shard);
                    result.put("key", whitelistShardKey((String) input.get("list"), shard, version));
                    return result;
                }
                case "whitelist-member":
                    try {
                        Map<String, Object> meta = validateWhitelistMeta(input.get("meta"), "meta.json", (String) input.get("list"));
                        String id = (String) input.get("id");
                        int shard = whitelistShard(id, Json.integer(meta, "shards", "meta"));
                        result.put("member", shardHas(validateWhitelistShard(input.get("shardDocument"), "shard", meta, shard), id));
                    } catch (BadPackage refused) {
                        result.put("error", "bad-whitelist");
                    }
                    return result;
                case "whitelist-bound":
                    try {
                        Map<String, Object> bindings = asMap(input.get("bindings"));
                        String list = (String) input.get("list");
                        if (!bindings.containsKey(list)) {
                            result.put("bound", false);
                            return result;
                        }
                        Map<String, Object> meta = boundWhitelist(list, bindings.get(list));
                        String id = (String) input.get("id");
                        int shard = whitelistShard(id, Json.integer(meta, "shards", "binding"));
                        String key = whitelistShardKey(list, shard, Json.integer(meta, "version", "binding"));
                        boolean member = shardHas(validateWhitelistShard(input.get("shardDocument"), key, meta, shard), id);
                        result.put("bound", true);
                        result.put("key", key);
                        result.put("member", member);
                    } catch (BadPackage refused) {
                        result.clear();
                        result.put("error", "bad-whitelist");
                    }
                    return result;
                case "app-version": {
                    List<Object> satisfies = new ArrayList<>();
                    for (String version : strings(input.get("versions"))) satisfies.add(Semver.satisfies(version, (String) input.get("range")));
                    result.put("satisfies", satisfies);
                    return result;
                }
                case "resolve": {
                    Map<String, Object> index = asMap(asMap(file.get("indexes")).get((String) input.get("index")));
                    Map<String, Object> request = asMap(input.get("device"));
                    Device device = new Device();
                    device.packageId = (String) request.get("package");
                    device.platform = (String) request.get("platform");
                    device.appVersion = (String) request.get("appVersion");
                    device.deviceId = (String) request.get("deviceId");
                    device.installed = (String) request.get("installed");
                    device.patches = Boolean.TRUE.equals(request.get("patches"));
                    device.now = parseTime((String) request.get("now"));
                    if (request.get("attributes") != null) {
                        device.attributes = new HashMap<>();
                        for (Map.Entry<String, Object> attribute : asMap(request.get("attributes")).entrySet()) device.attributes.put(attribute.getKey(), (String) attribute.getValue());
                    }
                    Map<String, Object> lists = input.get("whitelists") == null ? Map.of() : asMap(input.get("whitelists"));
                    try {
                        return Resolver.resolve(index, device, (list, id) -> lists.get(list) != null && strings(lists.get(list)).contains(id));
                    } catch (Refusal refused) {
                        if (refused.exitCode != 2) throw refused;
                        result.put("error", "input");
                        return result;
                    }
                }
                case "document-binding": {
                    String name = (String) input.get("document");
                    try {
                        Map<String, Object> index = Installer.validateIndex(input.get("index"), "index.json", "production");
                        Map<String, Object> document = new LinkedHashMap<>();
                        document.put("version", input.get("version"));
                        ChannelDocuments.assertBound(index, name, document, name);
                        Long bound = ChannelDocuments.boundVersion(index, name);
                        result.put("ok", true);
                        result.put("bound", bound == null ? null : (double) bound);
                    } catch (BadPackage refused) {
                        result.clear();
                        result.put("error", "integrity");
                    }
                    return result;
                }
                case "switches":
                case "app-upgrade": {
                    Map<String, Object> request = asMap(input.get("device"));
                    Device device = new Device();
                    device.platform = (String) request.get("platform");
                    device.appVersion = (String) request.get("appVersion");
                    device.deviceId = (String) request.get("deviceId");
                    device.now = parseTime((String) request.get("now"));
                    if (request.get("attributes") != null) {
                        device.attributes = new HashMap<>();
                        for (Map.Entry<String, Object> attribute : asMap(request.get("attributes")).entrySet()) device.attributes.put(attribute.getKey(), (String) attribute.getValue());
                    }
                    Map<String, Object> lists = input.get("whitelists") == null ? Map.of() : asMap(input.get("whitelists"));
                    WhitelistLookup whitelists = (list, id) -> lists.get(list) != null && strings(lists.get(list)).contains(id);
                    Object document = asMap(file.get("documents")).get((String) input.get("document"));
                    try {
                        return check.equals("switches")
                            ? ChannelDocuments.resolveSwitches(ChannelDocuments.switches(document, "switches.json", "production"), device, whitelists)
                            : ChannelDocuments.resolveAppUpgrade(ChannelDocuments.appReleases(document, "app-releases.json", "production"), device, whitelists);
                    } catch (BadPackage refused) {
                        result.put("error", "integrity");
                        return result;
                    } catch (Refusal refused) {
                        if (refused.exitCode != 2) throw refused;
                        result.put("error", "input");
                        return result;
                    }
                }
                case "document-freshness": {
                    Map<String, Object> document = asMap(input.get("document"));
                    boolean signed = Boolean.TRUE.equals(input.get("signed"));
                    Map<String, Object> kept = input.get("remembered") == null ? null : asMap(input.get("remembered"));
                    Trust remembered = kept == null ? null : new Trust((String) kept.get("channel"), (long) (double) (Double) kept.get("version"), Boolean.TRUE.equals(kept.get("signed")));
                    try {
                        Trust.assertFresh(document, parseTime((String) input.get("now")), signed, remembered, "document");
                    } catch (FreshnessRefusal refused) {
                        result.put("ok", false);
                        result.put("reason", refused.reason);
                        return result;
                    }
                    Trust remember = Trust.remember(document, signed, remembered);
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("channel", remember.channel);
                    json.put("version", (double) remember.indexVersion);
                    json.put("signed", remember.signed);
                    result.put("ok", true);
                    result.put("remember", json);
                    return result;
                }
                case "run-once": {
                    List<String> record = new ArrayList<>(strings(input.get("done")));
                    List<Object> ran = new ArrayList<>();
                    String fails = (String) input.get("fails");
                    List<RunOnceStep> steps = new ArrayList<>();
                    for (String version : strings(input.get("steps"))) {
                        steps.add(new RunOnceStep() {
                            public String version() {
                                return version;
                            }

                            public void run() {
                                if (version.equals(fails)) throw new IllegalStateException("step " + version + " failed");
                                ran.add(version);
                            }
                        });
                    }
                    RunOnceRecord memory = new RunOnceRecord() {
                        public List<String> load() {
                            return new ArrayList<>(record);
                        }

                        public void save(List<String> done) {
                            record.clear();
                            record.addAll(done);
                        }
                    };
                    try {
                        runOnce(steps, memory, (String) input.get("installed"));
                    } catch (Refusal refused) {
                        result.put("error", "input");
                        return result;
                    } catch (IllegalStateException stepFailed) {
                        result.put("ran", ran);
                        result.put("done", new ArrayList<Object>(record));
                        result.put("error", "step");
                        return result;
                    }
                    result.put("ran", ran);
                    result.put("done", new ArrayList<Object>(record));
                    return result;
                }
                case "device-version":
                    result.put("valid", Version.strict((String) input.get("text")) != null);
                    return result;
                case "time": {
                    Instant instant = parseTime((String) input.get("text"));
                    result.put("instant", instant == null ? null : DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC).format(instant));
                    return result;
                }
                case "version-order":
                    result.put("order", (double) Integer.signum(Version.strict((String) input.get("a")).compareTo(Version.strict((String) input.get("b")))));
                    return result;
                case "install-folder":
                    try {
                        Map<String, Object> state = Installer.interpretFolder((String) input.get("marker"), strings(input.get("otherEntries")), (String) input.get("package"), "folder");
                        result.put("ok", true);
                        result.put("installed", state == null ? null : state.get("version"));
                        result.put("trust", state == null ? null : state.get("trust"));
                    } catch (Refusal refused) {
                        if (refused.exitCode != 2) throw refused;
                        result.put("ok", false);
                        result.put("error", "input");
                    }
                    return result;
                case "remember-trust":
                    result.put("write", Installer.markerAfterCheck(input.get("state") == null ? null : asMap(input.get("state")), (String) input.get("package"),
                        (String) input.get("channel"), Trust.from(input.get("trust"))));
                    return result;
                case "install-order": {
                    List<String> choices = InstallOrder.choices((String) input.get("kind"), Boolean.TRUE.equals(input.get("patched")));
                    Map<String, Object> failures = asMap(input.get("failures"));
                    List<Object> tried = new ArrayList<>();
                    result.put("tried", tried);
                    for (String choice = choices.get(0); ; ) {
                        tried.add(choice);
                        String failure = (String) failures.get(choice);
                        if (failure == null) {
                            result.put("installed", choice);
                            return result;
                        }
                        String next = InstallOrder.next(choices, choice, failure);
                        if (next == null) {
                            result.put("installed", null);
                            result.put("error", failure);
                            return result;
                        }
                        choice = next;
                    }
                }
                case "freshness": {
                    Map<String, Object> index = asMap(input.get("index"));
                    boolean signed = Boolean.TRUE.equals(input.get("signed"));
                    Trust remembered = Trust.from(input.get("remembered"));
                    try {
                        Trust.assertFresh(index, parseTime((String) input.get("now")), signed, remembered);
                    } catch (FreshnessRefusal refused) {
                        result.put("ok", false);
                        result.put("reason", refused.reason);
                        return result;
                    }
                    result.put("ok", true);
                    result.put("remember", Trust.remember(index, signed, remembered).toJson());
                    return result;
                }
                case "release-manifest":
                    try {
                        Map<String, Object> served = Installer.checkManifest(asMap(input.get("manifest")), "manifest.json", (String) input.get("package"), asMap(input.get("release")));
                        List<Object> froms = new ArrayList<>();
                        for (Object delta : Json.list(served.get("deltas"), "deltas")) froms.add(Json.object(delta, "delta").get("from"));
                        result.put("ok", true);
                        result.put("deltaFrom", froms);
                    } catch (BadPackage refused) {
                        result.put("ok", false);
                    }
                    return result;
                case "json":
                    try {
                        byte[] bytes = input.get("base64") != null ? Base64.getDecoder().decode((String) input.get("base64")) : ((String) input.get("text")).getBytes(StandardCharsets.UTF_8);
                        Object parsed = Json.parse(Installer.strictUtf8(bytes));
                        result.put("ok", true);
                        result.put("canonical", Json.canonical(parsed));
                    } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException refused) {
                        result.put("ok", false);
                    }
                    return result;
                case "canonical": {
                    try {
                        Object value = input.get("valueText") != null ? Json.parse((String) input.get("valueText")) : input.get("value");
                        String canonical = new String(Signatures.canonicalBytes(asMap(value)), StandardCharsets.UTF_8);
                        result.put("ok", true);
                        result.put("canonical", canonical);
                    } catch (IllegalArgumentException notCanonicalizable) {
                        result.put("ok", false);
                    }
                    return result;
                }
                case "key-id":
                    result.put("keyId", Signatures.fromPem((String) asMap(file.get("keys")).get((String) input.get("key"))).keyId);
                    return result;
                case "signature": {
                    Map<String, Object> keys = asMap(file.get("keys"));
                    List<Signatures.TrustedKey> trusted = new ArrayList<>();
                    for (String name : strings(input.get("trusted"))) trusted.add(Signatures.fromPem((String) keys.get(name)));
                    Object document;
                    try {
                        document = input.get("documentText") != null ? Json.parse((String) input.get("documentText")) : input.get("document");
                    } catch (IllegalArgumentException unreadable) {
                        result.put("ok", false);
                        result.put("reason", "malformed");
                        return result;
                    }
                    return Signatures.check(document, trusted, input.get("threshold") == null ? 1 : (int) Json.integer(input, "threshold", "case"));
                }
                case "root-chain": {
                    List<Object> chain = input.get("chain") == null ? List.of() : Json.list(input.get("chain"), "chain");
                    try {
                        Map<String, Object> trusted = Roots.trusted(input.get("trusted"), "trusted root", 1);
                        long start = Json.integer(trusted, "version", "root");
                        Map<String, Object> newest = Roots.follow(trusted, version -> {
                            long at = version - start - 1;
                            return at < chain.size() ? chain.get((int) at) : null;
                        }, parseTime((String) input.get("now")));
                        result.put("version", newest.get("version"));
                        if (input.get("document") != null) {
                            TrustSet signing = Roots.role(newest, "signing");
                            result.put("document", Signatures.check(input.get("document"), signing, signing.threshold));
                        }
                    } catch (RootRefusal refused) {
                        result.clear();
                        result.put("error", refused.reason);
                    }
                    return result;
                }
                case "encryption-key-id":
                    result.put("keyId", Decryptor.keyId(Base64.getDecoder().decode((String) asMap(file.get("keys")).get((String) input.get("key")))));
                    return result;
                case "decrypt":
                    return decrypt(file, input, root);
                case "package":
                    return applyPackage(input, root);
                case "authorize": {
                    try {
                        Credential credential = Credential.parse(Json.write(input.get("credential")));
                        result.put("url", Credential.withQuery((String) input.get("url"), credential.signedQuery));
                        result.put("cookie", credential.cookieHeader);
                    } catch (Refusal refused) {
                        result.put("refused", true);
                    }
                    return result;
                }
                case "receipt-query":
                    result.put("query", Receipts.encode(asMap(input.get("receipt"))));
                    return result;
                case "receipt-decode": {
                    Map<String, Object> receipt = Receipts.decode((String) input.get("query"));
                    result.put("ok", receipt != null);
                    if (receipt != null) result.put("receipt", receipt);
                    return result;
                }
                case "receipt-sampled":
                    result.put("sampled", Receipts.sampled((String) input.get("iid"), (Double) input.get("sampleRate")));
                    return result;
                case "wilson": {
                    double[] interval = Receipts.wilson((long) (double) (Double) input.get("failures"), (long) (double) (Double) input.get("trials"));
                    result.put("lower", interval[0]);
                    result.put("upper", interval[1]);
                    return result;
                }
                case "receipt-count": {
                    Receipts.Tally tally = new Receipts.Tally();
                    for (Object item : (List<?>) input.get("lines")) {
                        Map<String, Object> line = asMap(item);
                        Map<String, Object> receipt = Receipts.decode((String) line.get("query"));
                        if (receipt == null) tally.malformed++;
                        else tally.add(receipt, line.get("at") == null ? null : (long) (double) (Double) line.get("at"));
                    }
                    return tally.report();
                }
                default:
                    throw new IllegalArgumentException("unknown check " + check);
            }
        }

        private static Object decrypt(Map<String, Object> file, Map<String, Object> input, Path root) throws IOException {
            byte[] ciphertext = input.get("ciphertextFile") != null ? Files.readAllBytes(root.resolve((String) input.get("ciphertextFile")))
                : Base64.getDecoder().decode((String) input.get("ciphertext"));
            List<byte[]> keys = new ArrayList<>();
            for (String name : strings(input.get("keys"))) keys.add(Base64.getDecoder().decode((String) asMap(file.get("keys")).get(name)));
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            Map<String, Object> result = new LinkedHashMap<>();
            try {
                Decryptor.decrypt(new java.io.ByteArrayInputStream(ciphertext), plain, keys, (String) input.get("expectedKeyId"));
            } catch (DecryptRefusal refused) {
                result.put("ok", false);
                result.put("reason", refused.reason);
                return result;
            }
            result.put("ok", true);
            result.put("size", (double) plain.size());
            result.put("sha256", hex(sha256(plain.toByteArray())));
            return result;
        }

        private static Object applyPackage(Map<String, Object> input, Path root) throws Exception {
            Path work = Files.createTempDirectory("up-java-conformance-");
            Map<String, Object> result = new LinkedHashMap<>();
            try {
                Path installed = Files.createDirectory(work.resolve("installed"));
                if (input.get("installed") != null) {
                    for (Map.Entry<String, Object> file : asMap(input.get("installed")).entrySet()) {
                        Path target = installed.resolve(file.getKey());
                        Files.createDirectories(target.getParent());
                        Files.write(target, Base64.getDecoder().decode((String) file.getValue()));
                    }
                }
                Path tree = work.resolve("tree");
                List<ManifestFile> files = ManifestFile.listOf(asMap(input.get("manifest")).get("files"));
                String packageName = (String) input.get("package");
                try {
                    buildTree(files, root.resolve(packageName), packageName, "delta".equals(input.get("kind")) ? installed : null, tree);
                } catch (DamagedBase damaged) {
                    result.put("ok", false);
                    result.put("error", "damaged-base");
                    return result;
                } catch (Refusal refused) {
                    result.put("ok", false);
                    result.put("error", "bad-package");
                    return result;
                }
                Map<String, Object> fileHashes = new TreeMap<>();
                List<String> folders = new ArrayList<>();
                describe(tree, "", fileHashes, folders);
                folders.sort(Comparator.naturalOrder());
                result.put("ok", true);
                result.put("files", fileHashes);
                result.put("folders", new ArrayList<Object>(folders));
                return result;
            } finally {
                Installer.deleteTree(work);
            }
        }

        private static void describe(Path dir, String prefix, Map<String, Object> files, List<String> folders) throws IOException {
            List<Path> entries = new ArrayList<>();
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
                for (Path entry : stream) entries.add(entry);
            }
            for (Path entry : entries) {
                String relative = prefix.isEmpty() ? entry.getFileName().toString() : prefix + "/" + entry.getFileName();
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    folders.add(relative);
                    describe(entry, relative, files, folders);
                } else {
                    files.put(relative, hex(sha256(Files.readAllBytes(entry))));
                }
            }
        }
    }
}
