package listener.analysis;

import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Drops English stop words, the default set of Lucene's EnglishAnalyzer. Expects lowercase tokens. */
@NamedComponent("listener_stop_en")
public final class EnglishStopFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new StopFilter(input, EnglishAnalyzer.getDefaultStopSet());
    }
}
