package listener.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Drops a trailing 's, then Porter stemming, as EnglishAnalyzer does. */
@NamedComponent("listener_stem_en")
public final class EnglishStemFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new PorterStemFilter(new EnglishPossessiveFilter(input));
    }
}
