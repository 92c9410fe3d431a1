import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Runs SQL statements with Apache Spark in local mode against a lake read through Apache Iceberg: the catalog `lake`
 * is a path-based (Hadoop) catalog at the lake's root, a namespace per layer (`lake.gold.analytics`). Each statement's
 * rows are printed as one JSON line: {"statement": i, "rows": [...]}; an error prints {"statement": i, "error": …}
 * and the program exits 2.
 *
 *   java -cp <spark and iceberg jars>:<this class> SparkSql <lake root> <statement> [<statement> …]
 */
public final class SparkSql {
  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: SparkSql <lake root> <statement>...");
      System.exit(64);
    }
    SparkSession spark = SparkSession.builder()
        .appName("tributary-iceberg-reader")
        .master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.lake.type", "hadoop")
        .config("spark.sql.catalog.lake.warehouse", "file:" + args[0])
        .config("spark.sql.catalog.lake.cache-enabled", "false")
        .getOrCreate();
    spark.sparkContext().setLogLevel("ERROR");
    int code = 0;
    for (int i = 1; i < args.length; i++) {
      try {
        Dataset<Row> result = spark.sql(args[i]);
        List<String> rows = result.toJSON().collectAsList();
        System.out.println("{\"statement\": " + (i - 1) + ", \"rows\": [" + String.join(", ", rows) + "]}");
      } catch (Exception e) {
        String message = String.valueOf(e.getMessage()).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ");
        System.out.println("{\"statement\": " + (i - 1) + ", \"error\": \"" + message + "\"}");
        code = 2;
      }
    }
    spark.stop();
    System.exit(code);
  }
}
