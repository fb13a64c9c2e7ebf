// Cross-check with the Java reference implementation (not part of the Go build).
// Decodes the Go codec's single-object messages with BinaryMessageDecoder
// (which verifies the CRC-64-AVRO fingerprint) and re-encodes them with
// BinaryMessageEncoder into *.java.bin, which become ScanResult.bin and
// CaptureEvent.bin here. Classpath: org.apache.avro:avro:1.12.0 and its
// dependencies (mvn dependency:get -Dartifact=org.apache.avro:avro:1.12.0).
import org.apache.avro.*; import org.apache.avro.generic.*; import org.apache.avro.message.*;
import java.io.File; import java.nio.file.*; import java.nio.ByteBuffer;
public class Soe {
  public static void main(String[] a) throws Exception {
    String[][] pairs = {{"/work/main/schemas/avro/ScanResult.avsc","result"},{"/work/main/schemas/avro/CaptureEvent.avsc","capture"}};
    for (String[] p : pairs) {
      Schema s = new Schema.Parser().parse(new File(p[0]));
      BinaryMessageDecoder<GenericRecord> d = new BinaryMessageDecoder<>(GenericData.get(), s);
      GenericRecord r = d.decode(ByteBuffer.wrap(Files.readAllBytes(Paths.get("/tmp/javafp/"+p[1]+".bin"))));
      String str = r.toString(); System.out.println(p[1] + ": " + str.substring(0, Math.min(300, str.length())));
      BinaryMessageEncoder<GenericRecord> e = new BinaryMessageEncoder<>(GenericData.get(), s);
      ByteBuffer out = e.encode(r); byte[] bs = new byte[out.remaining()]; out.get(bs);
      Files.write(Paths.get("/tmp/javafp/"+p[1]+".java.bin"), bs);
    }
  }
}
