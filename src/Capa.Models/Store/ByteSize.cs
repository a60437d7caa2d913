using System.Globalization;

namespace Capa.Models.Store;

/// <summary>Human-readable byte counts for messages and tables.</summary>
public static class ByteSize
{
    private static readonly string[] Units = ["B", "KB", "MB", "GB", "TB", "PB"];

    /// <summary>Formats <paramref name="bytes"/> in decimal units, e.g. <c>512 B</c>, <c>1.5 MB</c>, <c>2.31 GB</c>.</summary>
    public static string Format(long bytes)
    {
        if (bytes < 1000)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        double value = bytes;
        var unit = 0;
        while (value >= 1000 && unit < Units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        var format = value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00";
        return value.ToString(format, CultureInfo.InvariantCulture) + " " + Units[unit];
    }
}
