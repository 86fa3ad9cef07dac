using System.Security.Cryptography;

namespace FlashMall.Kernel.Persistence;

/// <summary>
/// A random secret generated once and kept under the data folder's <c>keys/</c> (readable by the
/// owner only), for a lone node that was given none in configuration. Several nodes must share a
/// configured secret instead.
/// </summary>
public static class SecretFiles
{
    /// <summary>The base64 secret in <paramref name="fileName"/>, created with <paramref name="bytes"/> random bytes if missing.</summary>
    /// <param name="data">Where the data folder is.</param>
    /// <param name="fileName">The file under <c>keys/</c>.</param>
    /// <param name="bytes">How many random bytes a new secret has.</param>
    /// <param name="path">The file's full path, for the log.</param>
    /// <returns>The secret, and whether this call generated it.</returns>
    public static (string Secret, bool Generated) LoadOrCreate(DataOptions data, string fileName, int bytes, out string path)
    {
        var directory = Path.Combine(data.FullPath, "keys");
        Directory.CreateDirectory(directory);
        path = Path.Combine(directory, fileName);
        var generated = false;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var file = new StreamWriter(path, options);
            file.Write(Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)));
            generated = true;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created before (or by a node starting alongside): use it.
        }
        return (File.ReadAllText(path).Trim(), generated);
    }
}
