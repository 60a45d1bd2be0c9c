import java.io.*;
import java.security.MessageDigest;
import java.util.*;
import java.util.zip.*;

/**
 * Reads a zip as Android code does, through the central directory (ZipFile) and
 * streaming (ZipInputStream), and prints one line per entry and reader:
 * "<reader> <sha256 of the bytes> <name>". Exits non-zero when a reader fails.
 */
public class ReadZip {
    static String sha256(InputStream in) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[65536];
        for (int read; (read = in.read(buffer)) > 0; ) digest.update(buffer, 0, read);
        return HexFormat.of().formatHex(digest.digest());
    }

    public static void main(String[] args) throws Exception {
        int failures = 0;
        try (ZipFile zip = new ZipFile(args[0])) {
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                try (InputStream in = zip.getInputStream(entry)) { System.out.println("ZipFile " + sha256(in) + " " + entry.getName()); }
            }
        } catch (Exception error) { failures++; System.out.println("FAIL ZipFile " + error); }
        try (ZipInputStream in = new ZipInputStream(new BufferedInputStream(new FileInputStream(args[0])))) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) System.out.println("ZipInputStream " + sha256(in) + " " + entry.getName());
        } catch (Exception error) { failures++; System.out.println("FAIL ZipInputStream " + error); }
        System.exit(failures);
    }
}
