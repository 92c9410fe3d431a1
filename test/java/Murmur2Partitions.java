// Prints the partition Kafka's Java client chooses for each key (BuiltInPartitioner.partitionForKey):
// Utils.toPositive(Utils.murmur2(key)) % partitions. Run with the kafka-clients jar on the class path.
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Partitions {
  public static void main(String[] args) {
    int partitions = Integer.parseInt(args[0]);
    for (int i = 1; i < args.length; i++) {
      byte[] key = args[i].getBytes(StandardCharsets.UTF_8);
      System.out.println(Utils.toPositive(Utils.murmur2(key)) % partitions);
    }
  }
}
